"use client";
import { Anchor, Group, Pagination, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useLocale, useTranslations } from "next-intl";
import Link from "next/link";
import { useMemo, useState } from "react";
import { ProblemAlert } from "@/components/ProblemAlert";
import { StatusBadge } from "@/components/StatusBadge";
import { useBookings, type Booking, type BookingFilters } from "@/hooks/bookings";
import { useProperties } from "@/hooks/properties";
import { formatDate } from "@/lib/dates";
import { formatMoney } from "@/lib/money";
import { DateField } from "@/components/DateField";

const STATUSES: Booking["status"][] = ["inquiry", "requested", "hold", "confirmed", "checked_in", "checked_out", "conflict", "cancelled", "declined", "expired", "no_show"];
const SOURCES: Booking["source"][] = ["direct", "airbnb", "booking_com", "expedia", "fewo_direkt", "google", "ical", "manual"];
const SORTS = ["check_in", "-check_in", "created_at", "-created_at", "reference"] as const;
const PAGE = 25;

export default function BookingsPage() {
  const t = useTranslations("bookings");
  const tc = useTranslations("calendar");
  const locale = useLocale();
  const properties = useProperties();
  const [status, setStatus] = useState<string | null>(null);
  const [source, setSource] = useState<string | null>(null);
  const [property, setProperty] = useState<string | null>(null);
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [guest, setGuest] = useState("");
  const [guestQuery] = useDebouncedValue(guest.trim(), 250);
  const [sort, setSort] = useState<string>("-created_at");
  const [page, setPage] = useState(1);
  const filters: BookingFilters = {
    status: status ? [status as Booking["status"]] : undefined,
    source: (source as Booking["source"]) ?? undefined,
    property_id: property ?? undefined,
    start: from || undefined,
    end: to || undefined,
    guest: guestQuery || undefined,
    sort,
    limit: PAGE,
    offset: (page - 1) * PAGE,
  };
  const list = useBookings(filters);
  const names = useMemo(() => new Map((properties.data ?? []).map((p) => [p.id, p.name])), [properties.data]);
  const items = list.data?.items ?? [];
  const total = list.data?.total ?? 0;
  const reset = <T,>(set: (v: T) => void) => (v: T) => { set(v); setPage(1); };
  return (
    <Stack>
      <Title order={1} size="h3">{t("title")}</Title>
      <Group align="flex-end" wrap="wrap">
        <Select label={t("status")} clearable placeholder={t("all")} value={status} onChange={reset(setStatus)} data={STATUSES.map((s) => ({ value: s, label: tc(`status.${s}`) }))} w={160} />
        <Select label={t("source")} clearable placeholder={t("all")} value={source} onChange={reset(setSource)} data={SOURCES.map((s) => ({ value: s, label: tc(`source.${s}`) }))} w={170} />
        <Select label={t("property")} clearable placeholder={t("all")} value={property} onChange={reset(setProperty)} data={(properties.data ?? []).map((p) => ({ value: p.id, label: p.name }))} w={200} searchable />
        <DateField label={t("from")} value={from} onChange={reset(setFrom)} clearable w={150} />
        <DateField label={t("to")} value={to} onChange={reset(setTo)} clearable w={150} />
        <TextInput label={t("guestFilter")} value={guest} onChange={(e) => { setGuest(e.currentTarget.value); setPage(1); }} w={170} data-testid="guest-filter" />
        <Select label={t("sort")} allowDeselect={false} value={sort} onChange={(v) => v && reset(setSort)(v)} data={SORTS.map((s) => ({ value: s, label: t(`sortBy.${s}`) }))} w={250} />
      </Group>
      <ProblemAlert error={list.error} />
      <Text size="sm" data-testid="bookings-count">{t("count", { count: total })}</Text>
      <Table.ScrollContainer minWidth={760}>
        <Table striped highlightOnHover data-testid="bookings-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t("reference")}</Table.Th><Table.Th>{t("guest")}</Table.Th><Table.Th>{t("property")}</Table.Th>
              <Table.Th>{t("checkIn")}</Table.Th><Table.Th>{t("checkOut")}</Table.Th><Table.Th>{t("status")}</Table.Th>
              <Table.Th>{t("source")}</Table.Th><Table.Th>{t("total")}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((b) => {
              const total = (b.quote as { total?: { amount_minor: number; currency: string } } | null)?.total;
              return (
                <Table.Tr key={b.id} data-testid="booking-row">
                  <Table.Td><Anchor component={Link} href={`/bookings/${b.id}`}>{b.reference}</Anchor></Table.Td>
                  <Table.Td>{[b.guest?.first_name, b.guest?.last_name].filter(Boolean).join(" ")}</Table.Td>
                  <Table.Td>{names.get(b.property_id) ?? ""}</Table.Td>
                  <Table.Td>{formatDate(b.check_in, locale)}</Table.Td>
                  <Table.Td>{formatDate(b.check_out, locale)}</Table.Td>
                  <Table.Td><StatusBadge status={b.status} /></Table.Td>
                  <Table.Td>{tc(`source.${b.source}`)}</Table.Td>
                  <Table.Td>{total ? formatMoney(total.amount_minor, total.currency, locale) : ""}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {total > PAGE && <Pagination total={Math.ceil(total / PAGE)} value={page} onChange={setPage} aria-label="pages" />}
    </Stack>
  );
}
