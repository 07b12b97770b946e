"use client";
import { Alert, Anchor, Button, Card, Group, Modal, NumberInput, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import Link from "next/link";
import { useParams } from "next/navigation";
import { useState } from "react";
import { useAuth } from "@/auth/AuthProvider";
import { ProblemAlert, errorsOf } from "@/components/ProblemAlert";
import { StatusBadge } from "@/components/StatusBadge";
import { ACTION_PERMISSION, NEXT_ACTIONS, useAudit, useBooking, useBookingAction, useUpdateBooking, type Booking, type BookingAction } from "@/hooks/bookings";
import { useProperty } from "@/hooks/properties";
import { useQuote, type Quote } from "@/hooks/quotes";
import { QuoteSummary } from "@/components/QuoteSummary";
import { PaymentsTable } from "@/components/PaymentsTable";
import { usePayments } from "@/hooks/payments";
import { formatDate, today } from "@/lib/dates";
import { formatMoney } from "@/lib/money";
import { refundOn } from "@/lib/refunds";
import { DateField } from "@/components/DateField";

export default function BookingPage() {
  const { id } = useParams<{ id: string }>();
  const t = useTranslations("bookings");
  const booking = useBooking(id);
  if (booking.error) return <ProblemAlert error={booking.error} />;
  if (!booking.data) return <Text>{t("title")}…</Text>;
  return <BookingDetail booking={booking.data} />;
}

function BookingDetail({ booking }: { booking: Booking }) {
  const t = useTranslations("bookings");
  const tc = useTranslations("calendar");
  const locale = useLocale();
  const { can, role } = useAuth();
  const property = useProperty(booking.property_id);
  const action = useBookingAction();
  const update = useUpdateBooking();
  const audit = useAudit(booking.id, can("audit.read"));
  const payments = usePayments({ booking_id: booking.id, limit: 50 }, can("payments.read"));
  const [cancelling, setCancelling] = useState(false);
  const [edit, setEdit] = useState<{ check_in: string; check_out: string; adults: number } | null>(null);
  const quote = booking.quote as Quote | null;
  const money = (m: { amount_minor: number; currency: string }) => formatMoney(m.amount_minor, m.currency, locale);
  const actions = NEXT_ACTIONS[booking.status].filter((a) => can(ACTION_PERMISSION[a]));
  const tz = property.data?.timezone;
  const refund = refundOn(quote?.cancellation, today(tz));
  const run = (a: BookingAction) => (a === "cancel" ? setCancelling(true) : action.mutate({ id: booking.id, action: a }));
  const guest = booking.guest;
  const editErrors = errorsOf(update.error);
  const editQuote = useQuote(edit ? { property_id: booking.property_id, check_in: edit.check_in, check_out: edit.check_out, adults: edit.adults, pets: booking.pets } : null);
  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={1} size="h3" data-testid="booking-reference">{t("detail", { reference: booking.reference })}</Title>
          <StatusBadge status={booking.status} />
        </Group>
        <Anchor component={Link} href="/bookings">{t("title")}</Anchor>
      </Group>
      <ProblemAlert error={action.error} testId="action-problem" />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Card withBorder>
          <Title order={2} size="h5">{t("stay")}</Title>
          <Text>{property.data?.name}</Text>
          <Text data-testid="booking-dates">{formatDate(booking.check_in, locale, { dateStyle: "full" })} – {formatDate(booking.check_out, locale, { dateStyle: "full" })}</Text>
          <Text size="sm">{t("nights")}: {booking.nights} · {t("guests")}: {booking.adults + booking.children}</Text>
          <Text size="sm">{t("source")}: {tc(`source.${booking.source}`)}</Text>
          {can("bookings.update") && !["cancelled", "declined", "expired", "no_show", "checked_out"].includes(booking.status) && (
            <Button mt="sm" size="xs" variant="default" onClick={() => setEdit({ check_in: booking.check_in, check_out: booking.check_out, adults: booking.adults })}>{t("edit")}</Button>
          )}
        </Card>
        <Card withBorder>
          <Title order={2} size="h5">{t("guest")}</Title>
          {guest && can("guests.read") ? (
            <Anchor component={Link} href={`/guests/${guest.id}`} data-testid="guest-name">{[guest.first_name, guest.last_name].filter(Boolean).join(" ") || guest.email || "—"}</Anchor>
          ) : (
            <Text data-testid="guest-name">{[guest?.first_name, guest?.last_name].filter(Boolean).join(" ") || "—"}</Text>
          )}
          {role === "owner" ? (
            <Text size="sm" c="gray.7" data-testid="contact-hidden">{t("contact")}: {t("hidden")}</Text>
          ) : (
            <>
              {guest?.email && <Text size="sm" data-testid="guest-email">{guest.email}</Text>}
              {guest?.phone && <Text size="sm" data-testid="guest-phone">{guest.phone}</Text>}
            </>
          )}
        </Card>
      </SimpleGrid>
      <Card withBorder>
        <Title order={2} size="h5">{t("quote")}</Title>
        {quote ? (
          <Table>
            <Table.Tbody>
              {quote.lines.map((l, i) => (
                <Table.Tr key={i}><Table.Td>{l.date ? `${l.label} · ${formatDate(l.date, locale)}` : l.label}</Table.Td><Table.Td ta="right">{money(l.amount)}</Table.Td></Table.Tr>
              ))}
              <Table.Tr><Table.Td fw={700}>{t("total")}</Table.Td><Table.Td ta="right" fw={700} data-testid="booking-total">{money(quote.total)}</Table.Td></Table.Tr>
            </Table.Tbody>
          </Table>
        ) : <Text size="sm">{t("noQuote")}</Text>}
      </Card>
      {can("payments.read") && (
      <Card withBorder data-testid="booking-payments">
        <Title order={2} size="h5">{t("payments")}</Title>
        <ProblemAlert error={payments.error} />
        {payments.data && payments.data.items.length === 0 && !booking.refund ? <Text size="sm">{t("noPayments")}</Text> : <PaymentsTable items={payments.data?.items ?? []} withBooking={false} />}
      </Card>
      )}
      <Card withBorder>
        <Title order={2} size="h5">{t("actions")}</Title>
        {booking.refund && <Text size="sm" data-testid="booking-refund">{t("refunded", { amount: money(booking.refund) })}</Text>}
        <Group mt="xs">
          {actions.length === 0 && <Text size="sm">{t("noActions")}</Text>}
          {actions.map((a) => (
            <Button key={a} color={a === "cancel" || a === "decline" || a === "no-show" ? "red.9" : undefined} onClick={() => run(a)} loading={action.isPending && action.variables?.action === a}>
              {t(`action.${a}`)}
            </Button>
          ))}
        </Group>
      </Card>
      {can("audit.read") && (
        <Card withBorder>
          <Title order={2} size="h5">{t("history")}</Title>
          <Table>
            <Table.Tbody>
              {(audit.data?.items ?? []).map((e) => (
                <Table.Tr key={e.id}><Table.Td>{new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(e.created_at))}</Table.Td><Table.Td>{e.action}</Table.Td></Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Card>
      )}
      <Modal opened={cancelling} onClose={() => setCancelling(false)} title={t("cancelTitle", { reference: booking.reference })}>
        <Stack>
          <Alert color="blue" role="status" data-testid="cancel-refund">
            {refund ? t("refundNow", { amount: money(refund.refund), percent: refund.refund_percent }) : t("noPolicy")}
          </Alert>
          <ProblemAlert error={action.error} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setCancelling(false)}>{t("keep")}</Button>
            <Button color="red.9" data-testid="confirm-cancel" loading={action.isPending} onClick={() => action.mutate({ id: booking.id, action: "cancel" }, { onSuccess: () => setCancelling(false) })}>
              {t("confirmCancel")}
            </Button>
          </Group>
        </Stack>
      </Modal>
      <Modal opened={!!edit} onClose={() => setEdit(null)} title={t("edit")}>
        {edit && (
          <form onSubmit={(e) => { e.preventDefault(); update.mutate({ id: booking.id, version: booking.version, ...edit }, { onSuccess: () => setEdit(null) }); }}>
            <Stack>
              <ProblemAlert error={update.error} />
              <DateField label={t("checkIn")} value={edit.check_in} onChange={(v) => setEdit({ ...edit, check_in: v })} error={editErrors.check_in} />
              <DateField label={t("checkOut")} value={edit.check_out} onChange={(v) => setEdit({ ...edit, check_out: v })} error={editErrors.check_out} />
              <NumberInput label={t("adults")} min={1} value={edit.adults} onChange={(v) => setEdit({ ...edit, adults: Number(v) || 1 })} error={editErrors.adults} />
              {editQuote.data && <QuoteSummary quote={editQuote.data} reasons={false} />}
              <Button type="submit" loading={update.isPending}>{t("edit")}</Button>
            </Stack>
          </form>
        )}
      </Modal>
    </Stack>
  );
}
