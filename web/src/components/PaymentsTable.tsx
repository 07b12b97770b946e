"use client";
import { Anchor, Badge, Table } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import Link from "next/link";
import type { Payment } from "@/hooks/payments";
import { formatMoney } from "@/lib/money";

const COLORS: Record<Payment["status"], string> = {
  pending: "gray.8", authorized: "blue.9", succeeded: "teal.9", failed: "red.9",
  partially_refunded: "orange.9", refunded: "orange.9", canceled: "gray.8",
};

/** Payments with what went back; `withBooking` adds the booking's reference as a link. */
export function PaymentsTable({ items, withBooking }: { items: Payment[]; withBooking: boolean }) {
  const t = useTranslations("payments");
  const locale = useLocale();
  const when = (s: string | null | undefined) => (s ? new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(s)) : "—");
  const money = (m: { amount_minor: number; currency: string }) => formatMoney(m.amount_minor, m.currency, locale);
  return (
    <Table.ScrollContainer minWidth={640}>
      <Table striped data-testid="payments-table">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{t("created")}</Table.Th>{withBooking && <Table.Th>{t("booking")}</Table.Th>}<Table.Th>{t("method")}</Table.Th>
            <Table.Th>{t("status")}</Table.Th><Table.Th>{t("amount")}</Table.Th><Table.Th>{t("refunded")}</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((p) => (
            <Table.Tr key={p.id} data-testid="payment-row">
              <Table.Td>{when(p.created_at)}</Table.Td>
              {withBooking && <Table.Td><Anchor component={Link} href={`/bookings/${p.booking_id}`}>{p.booking_reference}</Anchor></Table.Td>}
              <Table.Td>{t(`methods.${p.method}`)}</Table.Td>
              <Table.Td><Badge color={COLORS[p.status]} title={p.failure_reason ?? undefined}>{t(`statuses.${p.status}`)}</Badge></Table.Td>
              <Table.Td>{money(p.amount)}</Table.Td>
              <Table.Td>{p.refunded.amount_minor ? money(p.refunded) : "—"}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
