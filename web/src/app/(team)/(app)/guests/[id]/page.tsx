"use client";
// One guest: contact details (editable with guests.write), their stays, and the GDPR export and
// erase (with confirmation) for those allowed.
import { Anchor, Badge, Button, Card, Group, Modal, Select, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { StatusBadge } from "@/components/StatusBadge";
import { downloadGuestExport, guestName, useEraseGuest, useGuest, useGuestStays, useUpdateGuest, type Guest } from "@/hooks/guests";
import { useProperties } from "@/hooks/properties";
import { formatDate } from "@/lib/dates";
import { formatMoney } from "@/lib/money";

export default function GuestPage() {
  const { id } = useParams<{ id: string }>();
  const guest = useGuest(id);
  if (guest.error) return <ProblemAlert error={guest.error} />;
  if (!guest.data) return null;
  return <GuestDetail key={guest.data.erased_at ?? "present"} guest={guest.data} />;
}

function GuestDetail({ guest }: { guest: Guest }) {
  const t = useTranslations("guests");
  const tb = useTranslations("bookings");
  const tc = useTranslations("common");
  const locale = useLocale();
  const { can } = useAuth();
  const stays = useGuestStays(guest.id);
  const properties = useProperties();
  const names = new Map((properties.data ?? []).map((p) => [p.id, p.name]));
  const update = useUpdateGuest(guest.id);
  const erase = useEraseGuest();
  const [erasing, setErasing] = useState(false);
  const [form, setForm] = useState({
    first_name: guest.first_name ?? "", last_name: guest.last_name ?? "", email: guest.email ?? "",
    phone: guest.phone ?? "", language: guest.language, notes: guest.notes ?? "",
  });
  const errors = errorsOf(update.error);
  const mayWrite = can("guests.write") && !guest.erased_at;
  const field = (name: keyof typeof form, label: string) => (
    <TextInput label={label} value={form[name]} readOnly={!mayWrite} error={errors[name]}
      onChange={(e) => setForm({ ...form, [name]: e.currentTarget.value })} />
  );
  const save = () =>
    update.mutate({
      first_name: form.first_name || null, last_name: form.last_name || null, email: form.email || null,
      phone: form.phone || null, language: form.language, notes: form.notes || null,
    });
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={1} size="h3" data-testid="guest-title">{guest.erased_at ? t("erased") : guestName(guest) || guest.email}</Title>
          {guest.erased_at && <Badge color="gray.8">{t("erased")}</Badge>}
        </Group>
        <Anchor component={Link} href="/guests">{t("title")}</Anchor>
      </Group>
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={2} size="h5" mb="xs">{t("contact")}</Title>
          <form onSubmit={(e) => { e.preventDefault(); save(); }}>
            <Stack gap="xs">
              <ProblemAlert error={update.error} />
              <Group grow>{field("first_name", t("firstName"))}{field("last_name", t("lastName"))}</Group>
              {field("email", t("email"))}
              {field("phone", t("phone"))}
              <Select label={t("language")} readOnly={!mayWrite} allowDeselect={false} value={form.language} error={errors.language}
                data={[{ value: "de", label: "Deutsch" }, { value: "en", label: "English" }, ...(["de", "en"].includes(form.language) ? [] : [{ value: form.language, label: form.language }])]}
                onChange={(v) => v && setForm({ ...form, language: v })} />
              <Textarea label={t("notes")} readOnly={!mayWrite} value={form.notes} error={errors.notes} autosize minRows={2}
                onChange={(e) => setForm({ ...form, notes: e.currentTarget.value })} />
              {mayWrite && (
                <Group>
                  <Button type="submit" loading={update.isPending} data-testid="save-guest">{tc("save")}</Button>
                  {update.isSuccess && <Text size="sm" role="status">{tc("saved")}</Text>}
                </Group>
              )}
            </Stack>
          </form>
        </Card>
        {can("guests.export_erase") && !guest.erased_at && (
          <Card withBorder>
            <Title order={2} size="h5" mb="xs">{t("gdpr")}</Title>
            <Text size="sm" mb="sm">{t("gdprHelp")}</Text>
            <ProblemAlert error={erase.error} />
            <Group>
              <Button variant="default" onClick={() => void downloadGuestExport(guest.id)} data-testid="export-guest">{t("export")}</Button>
              <Button color="red.9" onClick={() => setErasing(true)} data-testid="erase-guest">{t("erase")}</Button>
            </Group>
          </Card>
        )}
      </SimpleGrid>
      <Card withBorder>
        <Title order={2} size="h5" mb="xs">{t("stays")}</Title>
        <ProblemAlert error={stays.error} />
        {stays.data && stays.data.items.length === 0 ? <Text size="sm">{t("noStays")}</Text> : (
          <Table.ScrollContainer minWidth={620}>
            <Table data-testid="guest-stays">
              <Table.Thead><Table.Tr><Table.Th>{tb("reference")}</Table.Th><Table.Th>{tb("property")}</Table.Th><Table.Th>{tb("checkIn")}</Table.Th><Table.Th>{tb("checkOut")}</Table.Th><Table.Th>{tb("status")}</Table.Th><Table.Th>{tb("total")}</Table.Th></Table.Tr></Table.Thead>
              <Table.Tbody>
                {(stays.data?.items ?? []).map((b) => {
                  const total = (b.quote as { total?: { amount_minor: number; currency: string } } | null)?.total;
                  return (
                    <Table.Tr key={b.id} data-testid="guest-stay">
                      <Table.Td><Anchor component={Link} href={`/bookings/${b.id}`}>{b.reference}</Anchor></Table.Td>
                      <Table.Td>{names.get(b.property_id) ?? ""}</Table.Td>
                      <Table.Td>{formatDate(b.check_in, locale)}</Table.Td>
                      <Table.Td>{formatDate(b.check_out, locale)}</Table.Td>
                      <Table.Td><StatusBadge status={b.status} /></Table.Td>
                      <Table.Td>{total ? formatMoney(total.amount_minor, total.currency, locale) : ""}</Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Card>
      <Modal opened={erasing} onClose={() => setErasing(false)} title={t("erase")}>
        <Stack>
          <Text>{t("eraseConfirm")}</Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setErasing(false)}>{tc("cancel")}</Button>
            <Button color="red.9" loading={erase.isPending} data-testid="confirm-erase" onClick={() => erase.mutate(guest.id, { onSuccess: () => setErasing(false) })}>{t("erase")}</Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
