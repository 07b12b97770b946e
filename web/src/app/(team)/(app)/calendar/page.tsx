"use client";
import { Alert, Button, Group, Loader, Stack, Switch, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useFormatter, useTranslations } from "next-intl";
import { useRouter } from "next/navigation";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, unwrap } from "@/api/client";
import { ApiError } from "@/api/problem";
import { useAuth } from "@/auth/AuthProvider";
import { CalendarGrid, Legend, type Move, type Row, type Selection } from "@/calendar/CalendarGrid";
import { NewStayModal } from "@/calendar/NewStayModal";
import { useUpdateBooking } from "@/hooks/bookings";
import { useRatesOverlay } from "@/hooks/ariOverlay";
import { useBookingsInRange, useCalendar } from "@/hooks/calendar";
import { key } from "@/hooks/keys";
import { useProperties } from "@/hooks/properties";
import { addDays, addMonths, range, today as todayIn } from "@/lib/dates";

const DAYS = 62;

export default function CalendarPage() {
  const t = useTranslations("calendar");
  const format = useFormatter();
  const router = useRouter();
  const qc = useQueryClient();
  const { can, agencyId } = useAuth();
  const properties = useProperties();
  const tz = properties.data?.[0]?.timezone;
  const today = todayIn(tz);
  const [start, setStart] = useState(() => addDays(todayIn(), -3));
  const end = addDays(start, DAYS);
  const calendar = useCalendar(start, end);
  const bookings = useBookingsInRange(start, end);
  const update = useUpdateBooking();
  const [selection, setSelection] = useState<Selection | null>(null);
  const [refused, setRefused] = useState<string | null>(null);
  const [overlay, setOverlay] = useState(false);
  const [visible, setVisible] = useState<string[]>([]);
  const onVisible = useCallback((ids: string[]) => setVisible((old) => (old.join(",") === ids.join(",") ? old : ids)), []);
  const rates = useRatesOverlay(visible, start, end, overlay && can("rates.read"));

  // The next and previous windows are fetched ahead, so moving a month shows no gap.
  useEffect(() => {
    for (const s of [addMonths(start, 1), addMonths(start, -1)]) {
      const e = addDays(s, DAYS);
      void qc.prefetchQuery({
        queryKey: key(agencyId, "calendar", s, e),
        queryFn: () => unwrap(api.GET("/api/v1/calendar", { params: { query: { start: s, end: e } } })),
      });
    }
  }, [start, agencyId, qc]);

  const dates = useMemo(() => range(start, end), [start, end]);
  const rows = useMemo<Row[]>(() => {
    if (!calendar.data || !properties.data) return [];
    const byId = new Map(calendar.data.properties.map((c) => [c.property_id, c]));
    if (calendar.data.start !== start) return [];
    return properties.data.flatMap((p) => {
      const cal = byId.get(p.id);
      return cal ? [{ id: p.id, name: p.name, currency: p.currency, cal }] : [];
    });
  }, [calendar.data, properties.data, start]);

  const onMove = async (m: Move) => {
    setRefused(null);
    try {
      await update.mutateAsync({ id: m.booking.id, version: m.booking.version, check_in: m.check_in, check_out: m.check_out, ...(m.property_id ? { property_id: m.property_id } : {}) });
    } catch (e) {
      // The server decides: its words are shown and the bar goes back where it was.
      setRefused(e instanceof ApiError ? e.message : t("moveFailed"));
    }
  };

  const loading = calendar.isPending || properties.isPending;
  const error = calendar.error ?? properties.error;
  const monthTitle = format.dateTimeRange(new Date(`${start}T00:00:00Z`), new Date(`${addDays(end, -1)}T00:00:00Z`), { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" });
  return (
    <Stack gap="sm">
      <Group justify="space-between" wrap="wrap">
        <Group gap="xs">
          <Title order={1} size="h3">{t("title")}</Title>
          <Text c="gray.7" size="sm" data-testid="calendar-month">{monthTitle}</Text>
          {calendar.isFetching && !loading && <Loader size="xs" aria-label={t("updating")} />}
        </Group>
        <Group gap="xs">
          <Button variant="default" size="xs" onClick={() => setStart(addMonths(start, -1))}>{t("prevMonth")}</Button>
          <Button variant="default" size="xs" onClick={() => setStart(addDays(todayIn(tz), -3))}>{t("today")}</Button>
          <Button variant="default" size="xs" onClick={() => setStart(addMonths(start, 1))}>{t("nextMonth")}</Button>
        </Group>
      </Group>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Legend />
        {can("rates.read") && (
          <Switch size="sm" label={t("ratesOverlay")} checked={overlay} onChange={(e) => setOverlay(e.currentTarget.checked)} data-testid="rates-overlay" />
        )}
      </Group>
      <Text id="calendar-help" size="xs" c="gray.7">{t("help")}</Text>
      {refused && (
        <Alert color="red" role="alert" withCloseButton onClose={() => setRefused(null)} data-testid="calendar-problem" title={t("moveRefused")}>
          {refused}
        </Alert>
      )}
      {error ? (
        <Alert color="red" role="alert">{error.message}</Alert>
      ) : loading ? (
        <Loader aria-label={t("loading")} />
      ) : rows.length === 0 && !calendar.isFetching ? (
        <Text>{t("empty")}</Text>
      ) : (
        <CalendarGrid
          start={start}
          dates={dates}
          today={today}
          rows={rows}
          bookings={bookings.data ?? new Map()}
          canSelect={can("bookings.create") || can("blocks.write") || can("owner_blocks.write")}
          canMove={can("bookings.update")}
          onSelect={setSelection}
          onMove={onMove}
          onOpen={(b) => router.push(`/bookings/${b.id}`)}
          rates={overlay ? rates : undefined}
          onVisible={onVisible}
          ready={!!bookings.data && !bookings.isPlaceholderData && !calendar.isPlaceholderData}
        />
      )}
      {selection && (
        <NewStayModal
          key={`${selection.propertyId}:${selection.start}:${selection.end}`}
          selection={selection}
          propertyName={rows.find((r) => r.id === selection.propertyId)?.name ?? ""}
          onClose={() => setSelection(null)}
        />
      )}
    </Stack>
  );
}
