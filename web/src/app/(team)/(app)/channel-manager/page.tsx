"use client";
// Channel Manager I: connections with their health (lag, failures, breaker), listing mappings,
// the sync log, dead letters with retry, and the conflict inbox.
import { Alert, Anchor, Badge, Button, Card, Group, Modal, NumberInput, Select, Stack, Switch, Table, Tabs, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import Link from "next/link";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { DateField } from "@/components/DateField";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { lagText, useChannelActions, useChannelConflicts, useConnections, useDeadLetters, useMappings, useRemoteListings, useSyncLog, type Connection, type ConnectionCreate } from "@/hooks/channelManager";
import { useProperties } from "@/hooks/properties";
import { formatDate } from "@/lib/dates";

const PLATFORMS: ConnectionCreate["platform"][] = ["airbnb", "booking_com", "expedia", "fewo_direkt", "google"];

function useWhen() {
  const locale = useLocale();
  const t = useTranslations("cm");
  return (s: string | null | undefined) => (s ? new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(s)) : t("never"));
}

export default function ChannelManagerPage() {
  const t = useTranslations("cm");
  const locale = useLocale();
  const when = useWhen();
  const { can } = useAuth();
  const connections = useConnections();
  const [selected, setSelected] = useState<string | null>(null);
  const current = connections.data?.items.find((c) => c.id === selected) ?? connections.data?.items[0];
  return (
    <Stack>
      <Title order={1} size="h3">{t("title")}</Title>
      <Card withBorder>
        <Title order={2} size="h5" mb="xs">{t("connections")}</Title>
        <ProblemAlert error={connections.error} />
        {connections.data && connections.data.items.length === 0 ? <Text size="sm" data-testid="no-connections">{t("noConnections")}</Text> : (
          <Table.ScrollContainer minWidth={760}>
            <Table highlightOnHover data-testid="connections-table">
              <Table.Thead><Table.Tr><Table.Th>{t("name")}</Table.Th><Table.Th>{t("platform")}</Table.Th><Table.Th>{t("status")}</Table.Th><Table.Th>{t("lag")}</Table.Th><Table.Th>{t("lastPush")}</Table.Th><Table.Th>{t("lastPull")}</Table.Th><Table.Th>{t("failures")}</Table.Th></Table.Tr></Table.Thead>
              <Table.Tbody>
                {(connections.data?.items ?? []).map((c) => (
                  <Table.Tr key={c.id} data-testid="connection-row" aria-selected={c.id === current?.id} bg={c.id === current?.id ? "indigo.0" : undefined}>
                    <Table.Td><Anchor component="button" type="button" onClick={() => setSelected(c.id)}>{c.name}</Anchor></Table.Td>
                    <Table.Td>{c.platform}</Table.Td>
                    <Table.Td><StatusBadge connection={c} /></Table.Td>
                    <Table.Td>{lagText(c.health?.lag_seconds, locale) ?? t("upToDate")}</Table.Td>
                    <Table.Td>{when(c.last_push_at)}</Table.Td><Table.Td>{when(c.last_pull_at)}</Table.Td>
                    <Table.Td>{c.failures_in_row}{c.last_error && <Text size="xs" c="red.9">{c.last_error}</Text>}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        {can("channels.credentials") && <NewConnection />}
      </Card>
      {current && <ConnectionDetail key={current.id} connection={current} manage={can("channels.manage")} />}
      <ConflictInbox manage={can("channels.manage")} />
    </Stack>
  );
}

function StatusBadge({ connection: c }: { connection: Connection }) {
  const t = useTranslations("cm");
  const breaker = c.health?.breaker;
  const color = c.status === "active" && (!breaker || breaker === "closed") && c.failures_in_row === 0 ? "teal.9" : c.status === "paused" ? "gray.8" : "orange.9";
  return <Badge color={color}>{c.status}{breaker && breaker !== "closed" ? ` · ${t("breaker")} ${breaker}` : ""}</Badge>;
}

/** Connect a platform: Airbnb by OAuth code, the others by machine credentials (key=value lines). */
function NewConnection() {
  const t = useTranslations("cm");
  const actions = useChannelActions();
  const [platform, setPlatform] = useState<ConnectionCreate["platform"]>("airbnb");
  const [name, setName] = useState("");
  const [code, setCode] = useState("");
  const [creds, setCreds] = useState("");
  const errors = errorsOf(actions.create.error);
  const submit = () => {
    const credentials = Object.fromEntries(creds.split("\n").map((l) => l.split("=")).filter((p) => p.length >= 2).map(([k, ...v]) => [k!.trim(), v.join("=").trim()]));
    actions.create.mutate(platform === "airbnb"
      ? { platform, name: name || null, authorization_code: code || null }
      : { platform, name: name || null, credentials });
  };
  return (
    <form onSubmit={(e) => { e.preventDefault(); submit(); }}>
      <Stack gap="xs" mt="sm">
        <Title order={3} size="h6">{t("connect")}</Title>
        <ProblemAlert error={actions.create.error} />
        <Group align="flex-end" wrap="wrap">
          <Select label={t("platform")} allowDeselect={false} value={platform} data={PLATFORMS} onChange={(v) => v && setPlatform(v as ConnectionCreate["platform"])} w={170} />
          <TextInput label={t("name")} value={name} onChange={(e) => setName(e.currentTarget.value)} error={errors.name} w={200} />
          {platform === "airbnb"
            ? <TextInput label={t("authCode")} value={code} onChange={(e) => setCode(e.currentTarget.value)} error={errors.authorization_code} w={260} />
            : <Textarea label={t("credentials")} description={t("credentialsHelp")} value={creds} onChange={(e) => setCreds(e.currentTarget.value)} error={errors.credentials} w={300} autosize minRows={2} />}
          <Button type="submit" loading={actions.create.isPending}>{t("connectButton")}</Button>
        </Group>
      </Stack>
    </form>
  );
}

function ConnectionDetail({ connection: c, manage }: { connection: Connection; manage: boolean }) {
  const t = useTranslations("cm");
  const actions = useChannelActions();
  const error = actions.test.error ?? actions.reconcile.error ?? actions.setStatus.error ?? actions.remove.error;
  return (
    <Card withBorder data-testid="connection-detail">
      <Group justify="space-between" mb="xs">
        <Title order={2} size="h5">{c.name} · {c.platform}</Title>
        {manage && (
          <Group gap="xs">
            <Button size="xs" variant="default" onClick={() => actions.test.mutate(c.id)} loading={actions.test.isPending}>{t("test")}</Button>
            <Button size="xs" variant="default" onClick={() => actions.reconcile.mutate(c.id)} loading={actions.reconcile.isPending}>{t("reconcile")}</Button>
            <Button size="xs" variant="default" onClick={() => actions.setStatus.mutate({ id: c.id, status: c.status === "paused" ? "active" : "paused" })}>{c.status === "paused" ? t("resume") : t("pause")}</Button>
            <Button size="xs" color="red.9" onClick={() => { if (window.confirm(t("disconnectConfirm"))) actions.remove.mutate(c.id); }}>{t("disconnect")}</Button>
          </Group>
        )}
      </Group>
      <ProblemAlert error={error} />
      {actions.test.data && <Alert color={actions.test.data.ok ? "teal" : "orange"} role="status">{actions.test.data.detail}</Alert>}
      {(c.health?.pending_ranges.length ?? 0) > 0 && <Text size="sm">{t("pending", { count: c.health!.pending_ranges.length })}</Text>}
      <Tabs defaultValue="mappings" keepMounted={false} mt="xs">
        <Tabs.List>
          <Tabs.Tab value="mappings">{t("mappings")}</Tabs.Tab>
          <Tabs.Tab value="log">{t("syncLog")}</Tabs.Tab>
          <Tabs.Tab value="dead">{t("deadLetters")}</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="mappings" pt="xs"><Mappings connection={c} manage={manage} /></Tabs.Panel>
        <Tabs.Panel value="log" pt="xs"><SyncLog connectionId={c.id} /></Tabs.Panel>
        <Tabs.Panel value="dead" pt="xs"><DeadLetters connectionId={c.id} manage={manage} /></Tabs.Panel>
      </Tabs>
    </Card>
  );
}

function Mappings({ connection: c, manage }: { connection: Connection; manage: boolean }) {
  const t = useTranslations("cm");
  const locale = useLocale();
  const when = useWhen();
  const mappings = useMappings(c.id);
  const properties = useProperties();
  const names = new Map((properties.data ?? []).map((p) => [p.id, p.name]));
  const actions = useChannelActions();
  const [adding, setAdding] = useState(false);
  const remote = useRemoteListings(c.id, adding);
  const [form, setForm] = useState({ remote: null as string | null, property: null as string | null, markupKind: "none" as "none" | "percent" | "fixed", markup: 0 });
  const errors = errorsOf(actions.map.error);
  const flag = (id: string, name: "sync_availability" | "sync_prices" | "sync_restrictions", value: boolean) => actions.updateMapping.mutate({ id, body: { [name]: value } });
  return (
    <Stack gap="xs">
      <ProblemAlert error={mappings.error ?? actions.updateMapping.error ?? actions.unmap.error} />
      {mappings.data && mappings.data.length === 0 ? <Text size="sm">{t("noMappings")}</Text> : (
        <Table.ScrollContainer minWidth={760}>
          <Table>
            <Table.Thead><Table.Tr><Table.Th>{t("remoteListing")}</Table.Th><Table.Th>{t("property")}</Table.Th><Table.Th>{t("markup")}</Table.Th><Table.Th>{t("sync")}</Table.Th><Table.Th>{t("lag")}</Table.Th><Table.Th>{t("lastPush")}</Table.Th>{manage && <Table.Th />}</Table.Tr></Table.Thead>
            <Table.Tbody>
              {(mappings.data ?? []).map((m) => (
                <Table.Tr key={m.id} data-testid="mapping-row">
                  <Table.Td>{m.remote_listing_id}</Table.Td>
                  <Table.Td>{names.get(m.property_id) ?? m.property_id}</Table.Td>
                  <Table.Td>{m.markup_kind === "none" ? "—" : m.markup_kind === "percent" ? `${m.markup_value} %` : m.markup_value}</Table.Td>
                  <Table.Td>
                    <Stack gap={2}>
                      {(["sync_availability", "sync_prices", "sync_restrictions"] as const).map((f) => (
                        <Switch key={f} size="xs" label={t(f)} checked={m[f]} disabled={!manage} onChange={(e) => flag(m.id, f, e.currentTarget.checked)} />
                      ))}
                    </Stack>
                  </Table.Td>
                  <Table.Td>{lagText(m.health?.lag_seconds, locale) ?? t("upToDate")}{m.last_error && <Text size="xs" c="red.9">{m.last_error}</Text>}</Table.Td>
                  <Table.Td>{when(m.last_push_at)}</Table.Td>
                  {manage && <Table.Td><Button size="compact-xs" variant="default" color="red.9" onClick={() => { if (window.confirm(t("unmapConfirm"))) actions.unmap.mutate(m.id); }}>{t("unmap")}</Button></Table.Td>}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {manage && !adding && <Group><Button size="xs" variant="default" onClick={() => setAdding(true)}>{t("addMapping")}</Button></Group>}
      {manage && adding && (
        <form onSubmit={(e) => { e.preventDefault(); if (form.remote && form.property) actions.map.mutate({ id: c.id, body: { remote_listing_id: form.remote, property_id: form.property, markup_kind: form.markupKind, markup_value: form.markup, sync_availability: true, sync_prices: true, sync_restrictions: true } }, { onSuccess: () => setAdding(false) }); }}>
          <Stack gap="xs">
            <ProblemAlert error={remote.error ?? actions.map.error} />
            <Group align="flex-end" wrap="wrap">
              <Select label={t("remoteListing")} value={form.remote} error={errors.remote_listing_id} w={240} searchable
                data={(remote.data ?? []).filter((r) => !r.mapping_id).map((r) => ({ value: r.id, label: `${r.name ?? r.id} (${r.currency})` }))}
                onChange={(v) => setForm({ ...form, remote: v })} />
              <Select label={t("property")} value={form.property} error={errors.property_id} w={220} searchable
                data={(properties.data ?? []).map((p) => ({ value: p.id, label: p.name }))} onChange={(v) => setForm({ ...form, property: v })} />
              <Select label={t("markupKind")} allowDeselect={false} value={form.markupKind} w={130} data={["none", "percent", "fixed"]}
                onChange={(v) => v && setForm({ ...form, markupKind: v as typeof form.markupKind })} />
              <NumberInput label={t("markupValue")} value={form.markup} error={errors.markup_value} w={120} onChange={(v) => setForm({ ...form, markup: Number(v) || 0 })} />
              <Button type="submit" loading={actions.map.isPending}>{t("map")}</Button>
              <Button variant="default" onClick={() => setAdding(false)}>{t("cancel")}</Button>
            </Group>
          </Stack>
        </form>
      )}
    </Stack>
  );
}

function SyncLog({ connectionId }: { connectionId: string }) {
  const t = useTranslations("cm");
  const locale = useLocale();
  const when = useWhen();
  const log = useSyncLog(connectionId);
  return (
    <Stack gap="xs">
      <ProblemAlert error={log.error} />
      {log.data && log.data.length === 0 ? <Text size="sm">{t("noLog")}</Text> : (
        <Table.ScrollContainer minWidth={760}>
          <Table striped data-testid="sync-log">
            <Table.Thead><Table.Tr><Table.Th>{t("started")}</Table.Th><Table.Th>{t("kind")}</Table.Th><Table.Th>{t("range")}</Table.Th><Table.Th>{t("calls")}</Table.Th><Table.Th>{t("latency")}</Table.Th><Table.Th>{t("outcome")}</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {(log.data ?? []).map((e) => (
                <Table.Tr key={e.id}>
                  <Table.Td>{when(e.started_at)}</Table.Td><Table.Td>{e.kind}</Table.Td>
                  <Table.Td>{e.start && e.end ? `${formatDate(e.start, locale)} – ${formatDate(e.end, locale)} (${e.nights})` : "—"}</Table.Td>
                  <Table.Td>{e.calls} / {e.attempts}</Table.Td><Table.Td>{e.latency_ms} ms</Table.Td>
                  <Table.Td><Badge color={e.outcome === "ok" ? "teal.9" : "orange.9"}>{e.outcome}</Badge>{e.error && <Text size="xs">{e.error}</Text>}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}

function DeadLetters({ connectionId, manage }: { connectionId: string; manage: boolean }) {
  const t = useTranslations("cm");
  const locale = useLocale();
  const when = useWhen();
  const dead = useDeadLetters(connectionId);
  const actions = useChannelActions();
  return (
    <Stack gap="xs">
      <ProblemAlert error={dead.error ?? actions.retry.error} />
      {dead.data && dead.data.length === 0 ? <Text size="sm">{t("noDeadLetters")}</Text> : (
        <Table data-testid="dead-letters">
          <Table.Thead><Table.Tr><Table.Th>{t("range")}</Table.Th><Table.Th>{t("attempts")}</Table.Th><Table.Th>{t("error")}</Table.Th><Table.Th>{t("created")}</Table.Th>{manage && <Table.Th />}</Table.Tr></Table.Thead>
          <Table.Tbody>
            {(dead.data ?? []).map((d) => (
              <Table.Tr key={d.id}>
                <Table.Td>{formatDate(d.start, locale)} – {formatDate(d.end, locale)}</Table.Td><Table.Td>{d.attempts}</Table.Td>
                <Table.Td>{d.error}</Table.Td><Table.Td>{when(d.created_at)}</Table.Td>
                {manage && <Table.Td><Button size="compact-xs" onClick={() => actions.retry.mutate({ id: connectionId, deadLetterId: d.id })} loading={actions.retry.isPending && actions.retry.variables?.deadLetterId === d.id}>{t("retry")}</Button></Table.Td>}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

/** Double bookings the platforms caused: move the stay, cancel it, or accept the overbooking. */
function ConflictInbox({ manage }: { manage: boolean }) {
  const t = useTranslations("cm");
  const locale = useLocale();
  const when = useWhen();
  const conflicts = useChannelConflicts();
  const properties = useProperties();
  const names = new Map((properties.data ?? []).map((p) => [p.id, p.name]));
  const actions = useChannelActions();
  const [moving, setMoving] = useState<{ id: string; property: string | null; check_in: string; check_out: string } | null>(null);
  const errors = errorsOf(actions.resolve.error);
  return (
    <Card withBorder data-testid="conflict-inbox">
      <Title order={2} size="h5" mb="xs">{t("conflictInbox")}</Title>
      <ProblemAlert error={conflicts.error ?? (moving ? null : actions.resolve.error)} />
      {conflicts.data && conflicts.data.items.length === 0 ? <Text size="sm">{t("noConflicts")}</Text> : (
        <Table.ScrollContainer minWidth={760}>
          <Table>
            <Table.Thead><Table.Tr><Table.Th>{t("property")}</Table.Th><Table.Th>{t("range")}</Table.Th><Table.Th>{t("booking")}</Table.Th><Table.Th>{t("clashesWith")}</Table.Th><Table.Th>{t("created")}</Table.Th><Table.Th>{t("resolution")}</Table.Th></Table.Tr></Table.Thead>
            <Table.Tbody>
              {(conflicts.data?.items ?? []).map((c) => (
                <Table.Tr key={c.id} data-testid="channel-conflict">
                  <Table.Td>{names.get(c.property_id) ?? ""}</Table.Td>
                  <Table.Td>{formatDate(c.start, locale)} – {formatDate(c.end, locale)}</Table.Td>
                  <Table.Td><Anchor component={Link} href={`/bookings/${c.booking_id}`}>{t("open")}</Anchor></Table.Td>
                  <Table.Td>{c.clashing_booking_id ? <Anchor component={Link} href={`/bookings/${c.clashing_booking_id}`}>{t("aBooking")}</Anchor> : c.clashing_block_id ? t("aBlock") : "—"}</Table.Td>
                  <Table.Td>{when(c.created_at)}</Table.Td>
                  <Table.Td>
                    {c.resolution ? <Badge color="gray.8">{c.resolution}</Badge> : manage ? (
                      <Group gap={4} wrap="nowrap">
                        <Button size="compact-xs" variant="default" onClick={() => setMoving({ id: c.id, property: c.property_id, check_in: c.start, check_out: c.end })}>{t("move")}</Button>
                        <Button size="compact-xs" variant="default" color="red.9" onClick={() => actions.resolve.mutate({ id: c.id, body: { action: "cancel" } })}>{t("cancelStay")}</Button>
                        <Button size="compact-xs" variant="default" onClick={() => actions.resolve.mutate({ id: c.id, body: { action: "accept_overbooked" } })}>{t("accept")}</Button>
                      </Group>
                    ) : <Badge color="orange.9">{t("openState")}</Badge>}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={!!moving} onClose={() => setMoving(null)} title={t("move")}>
        {moving && (
          <form onSubmit={(e) => { e.preventDefault(); actions.resolve.mutate({ id: moving.id, body: { action: "move", property_id: moving.property, check_in: moving.check_in, check_out: moving.check_out } }, { onSuccess: () => setMoving(null) }); }}>
            <Stack gap="xs">
              <ProblemAlert error={actions.resolve.error} />
              <Select label={t("property")} value={moving.property} error={errors.property_id} data={(properties.data ?? []).map((p) => ({ value: p.id, label: p.name }))} onChange={(v) => setMoving({ ...moving, property: v })} />
              <DateField label={t("checkIn")} value={moving.check_in} onChange={(v) => setMoving({ ...moving, check_in: v })} error={errors.check_in} />
              <DateField label={t("checkOut")} value={moving.check_out} onChange={(v) => setMoving({ ...moving, check_out: v })} error={errors.check_out} />
              <Button type="submit" loading={actions.resolve.isPending}>{t("move")}</Button>
            </Stack>
          </form>
        )}
      </Modal>
    </Card>
  );
}
