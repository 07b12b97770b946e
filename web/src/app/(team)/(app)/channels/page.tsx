"use client";
import { Alert, Anchor, Badge, Button, Card, Code, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import Link from "next/link";
import { useRouter, useSearchParams } from "next/navigation";
import { Suspense, useState } from "react";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { key } from "@/hooks/keys";
import { useProperties } from "@/hooks/properties";
import { formatDate } from "@/lib/dates";

type FeedSource = components["schemas"]["FeedSource"];
const SOURCES: FeedSource[] = ["airbnb", "booking_com", "fewo_direkt", "vrbo", "other"];

function Channels() {
  const t = useTranslations("channels");
  const locale = useLocale();
  const { can, agencyId } = useAuth();
  const qc = useQueryClient();
  const params = useSearchParams();
  const router = useRouter();
  const properties = useProperties();
  const propertyId = params.get("property") ?? properties.data?.[0]?.id ?? null;
  const manage = can("channels.manage");
  const when = (s: string | null | undefined) => (s ? new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(s)) : t("never"));
  const exports = useQuery({
    queryKey: key(agencyId, "ical", "exports", propertyId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/properties/{property_id}/ical-exports", { params: { path: { property_id: propertyId! } }, signal })),
    enabled: !!propertyId,
  });
  const feeds = useQuery({
    queryKey: key(agencyId, "ical", "feeds", propertyId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/ical-feeds", { params: { query: { property_id: propertyId ?? undefined } }, signal })),
    enabled: !!propertyId,
  });
  const alerts = useQuery({ queryKey: key(agencyId, "alerts"), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/alerts", { signal })) });
  const invalidate = () => qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === agencyId && ["ical", "alerts"].includes(q.queryKey[1] as string) });
  const [exclude, setExclude] = useState<string | null>(null);
  const createExport = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/properties/{property_id}/ical-exports", { params: { path: { property_id: propertyId! } }, body: { exclude_source: (exclude as FeedSource) ?? null } })),
    onSuccess: invalidate,
  });
  const [feed, setFeed] = useState({ url: "", name: "", source: "airbnb" as FeedSource });
  const createFeed = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/properties/{property_id}/ical-feeds", { params: { path: { property_id: propertyId! } }, body: feed })),
    onSuccess: invalidate,
  });
  const rotate = useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/properties/{property_id}/ical-exports/{export_id}/rotate", { params: { path: { property_id: propertyId!, export_id: id } } })),
    onSuccess: invalidate,
  });
  const revoke = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/properties/{property_id}/ical-exports/{export_id}", { params: { path: { property_id: propertyId!, export_id: id } } })),
    onSuccess: invalidate,
  });
  const removeFeed = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE("/api/v1/ical-feeds/{feed_id}", { params: { path: { feed_id: id } } })),
    onSuccess: invalidate,
  });
  const [openConflicts, setOpenConflicts] = useState<string | null>(null);
  const sync = useMutation({ mutationFn: (id: string) => unwrap(api.POST("/api/v1/ical-feeds/{feed_id}/sync", { params: { path: { feed_id: id } } })), onSettled: invalidate });
  const feedErrors = errorsOf(createFeed.error);
  return (
    <Stack>
      <Group justify="space-between" align="flex-end">
        <Title order={1} size="h3">{t("title")}</Title>
        <Select label={t("property")} w={260} allowDeselect={false} value={propertyId} data={(properties.data ?? []).map((p) => ({ value: p.id, label: p.name }))}
          onChange={(v) => v && router.replace(`/channels?property=${v}`)} />
      </Group>
      <Card withBorder>
        <Title order={2} size="h5" mb="xs">{t("alerts")}</Title>
        {(alerts.data?.items ?? []).length === 0 ? <Text size="sm">{t("noAlerts")}</Text> : (
          <Stack gap={4}>{alerts.data!.items.map((a) => <Alert key={a.id} color="orange" title={a.kind}>{a.message}</Alert>)}</Stack>
        )}
      </Card>
      <Card withBorder>
        <Title order={2} size="h5" mb="xs">{t("exports")}</Title>
        <ProblemAlert error={exports.error ?? createExport.error ?? rotate.error ?? revoke.error} />
        {manage && (
          <Group align="flex-end" mb="xs">
            <Select label={t("excludeSource")} clearable value={exclude} onChange={setExclude} data={SOURCES} w={200} />
            <Button onClick={() => createExport.mutate()} loading={createExport.isPending}>{t("newExport")}</Button>
          </Group>
        )}
        {(rotate.data ?? createExport.data) && <Alert color="teal" role="status" data-testid="export-url">{t("issued")} <Code>{(rotate.data ?? createExport.data)!.url}</Code></Alert>}
        {(exports.data ?? []).length === 0 ? <Text size="sm">{t("noExports")}</Text> : (
          <Table><Table.Thead><Table.Tr><Table.Th>{t("hint")}</Table.Th><Table.Th>{t("excludeSource")}</Table.Th><Table.Th>{t("created")}</Table.Th><Table.Th>{t("rotated")}</Table.Th>{manage && <Table.Th>{t("actions")}</Table.Th>}</Table.Tr></Table.Thead>
            <Table.Tbody>{exports.data!.map((x) => (
              <Table.Tr key={x.id} data-testid="export-row">
                <Table.Td>{x.token_hint}…</Table.Td><Table.Td>{x.exclude_source ?? "—"}</Table.Td><Table.Td>{when(x.created_at)}</Table.Td><Table.Td>{x.rotated_at ? when(x.rotated_at) : "—"}</Table.Td>
                {manage && (
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button size="compact-xs" variant="default" onClick={() => rotate.mutate(x.id)} loading={rotate.isPending && rotate.variables === x.id}>{t("rotate")}</Button>
                      <Button size="compact-xs" variant="default" color="red.9" onClick={() => { if (window.confirm(t("revokeConfirm"))) revoke.mutate(x.id); }} loading={revoke.isPending && revoke.variables === x.id}>{t("revoke")}</Button>
                    </Group>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}</Table.Tbody>
          </Table>
        )}
      </Card>
      <Card withBorder>
        <Title order={2} size="h5" mb="xs">{t("feeds")}</Title>
        <ProblemAlert error={feeds.error ?? createFeed.error ?? sync.error ?? removeFeed.error} />
        {manage && (
          <form onSubmit={(e) => { e.preventDefault(); createFeed.mutate(); }}>
            <Group align="flex-end" mb="xs">
              <TextInput label={t("feedUrl")} value={feed.url} onChange={(e) => setFeed({ ...feed, url: e.currentTarget.value })} error={feedErrors.url} w={320} required />
              <TextInput label={t("feedName")} value={feed.name} onChange={(e) => setFeed({ ...feed, name: e.currentTarget.value })} error={feedErrors.name} required />
              <Select label={t("source")} allowDeselect={false} value={feed.source} onChange={(v) => v && setFeed({ ...feed, source: v as FeedSource })} data={SOURCES} w={160} />
              <Button type="submit" loading={createFeed.isPending}>{t("addFeed")}</Button>
            </Group>
          </form>
        )}
        {(feeds.data?.items ?? []).length === 0 ? <Text size="sm">{t("noFeeds")}</Text> : (
          <Table><Table.Thead><Table.Tr><Table.Th>{t("feedName")}</Table.Th><Table.Th>{t("health")}</Table.Th><Table.Th>{t("lastSuccess")}</Table.Th><Table.Th>{t("events")}</Table.Th><Table.Th>{t("conflicts")}</Table.Th><Table.Th /></Table.Tr></Table.Thead>
            <Table.Tbody>{feeds.data!.items.map((f) => (
              <Table.Tr key={f.id}>
                <Table.Td>{f.name}<Text size="xs" c="gray.7">{f.url}</Text></Table.Td>
                <Table.Td><Badge color={f.health.status === "ok" ? "teal.9" : "orange.9"}>{f.health.status}</Badge>{f.health.last_error && <Text size="xs">{f.health.last_error}</Text>}</Table.Td>
                <Table.Td>{when(f.health.last_success_at)}</Table.Td><Table.Td>{f.health.event_count}</Table.Td><Table.Td>
                  <Button size="compact-xs" variant={openConflicts === f.id ? "filled" : "default"} onClick={() => setOpenConflicts(openConflicts === f.id ? null : f.id)} data-testid="feed-conflicts">
                    {t("showConflicts", { count: f.health.open_conflicts })}
                  </Button>
                </Table.Td>
                <Table.Td>{manage && (
                  <Group gap={4} wrap="nowrap">
                    <Button size="compact-xs" variant="default" onClick={() => sync.mutate(f.id)} loading={sync.isPending && sync.variables === f.id}>{t("syncNow")}</Button>
                    <Button size="compact-xs" variant="default" color="red.9" onClick={() => { if (window.confirm(t("removeFeedConfirm"))) removeFeed.mutate(f.id); }}>{t("removeFeed")}</Button>
                  </Group>
                )}</Table.Td>
              </Table.Tr>
            ))}</Table.Tbody>
          </Table>
        )}
        {openConflicts && <FeedConflicts feedId={openConflicts} />}
      </Card>
    </Stack>
  );
}

/** A feed's conflicts: imported nights that clash with our bookings or blocks. */
function FeedConflicts({ feedId }: { feedId: string }) {
  const t = useTranslations("channels");
  const locale = useLocale();
  const { agencyId } = useAuth();
  const conflicts = useQuery({
    queryKey: key(agencyId, "ical", "conflicts", feedId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/ical-feeds/{feed_id}/conflicts", { params: { path: { feed_id: feedId }, query: { open_only: false } }, signal })),
  });
  const d = (s: string) => formatDate(s, locale);
  return (
    <Stack gap={4} mt="sm" data-testid="conflicts">
      <Title order={3} size="h6">{t("conflicts")}</Title>
      <ProblemAlert error={conflicts.error} />
      {conflicts.data && conflicts.data.length === 0 ? <Text size="sm">{t("noConflicts")}</Text> : (
        <Table>
          <Table.Thead><Table.Tr><Table.Th>{t("imported")}</Table.Th><Table.Th>{t("clashesWith")}</Table.Th><Table.Th>{t("detected")}</Table.Th><Table.Th>{t("state")}</Table.Th></Table.Tr></Table.Thead>
          <Table.Tbody>
            {(conflicts.data ?? []).map((c) => (
              <Table.Tr key={c.id} data-testid="conflict-row">
                <Table.Td>{d(c.start)} – {d(c.end)}</Table.Td>
                <Table.Td>
                  {c.booking_id ? <Anchor component={Link} href={`/bookings/${c.booking_id}`}>{t(`clash.${c.clash_type === "block" ? "block" : "booking"}`)}</Anchor> : t(`clash.${c.clash_type === "block" ? "block" : "booking"}`)}
                  {" "}({d(c.clash_start)} – {d(c.clash_end)})
                </Table.Td>
                <Table.Td>{new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(c.detected_at))}</Table.Td>
                <Table.Td>{c.resolved_at ? <Badge color="gray.8">{t("resolved")}</Badge> : <Badge color="orange.9">{t("open")}</Badge>}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

export default function ChannelsPage() {
  return <Suspense><Channels /></Suspense>;
}
