"use client";
import { Alert, Group, Stack, Text } from "@mantine/core";
import { useLocale, useTranslations } from "next-intl";
import type { Quote } from "@/hooks/quotes";
import { formatMoney } from "@/lib/money";

/** A quote's lines and total; `reasons` off where the stay's own nights would count as taken
 * (changing an existing booking: the API re-checks availability itself). */
export function QuoteSummary({ quote, reasons = true }: { quote: Quote; reasons?: boolean }) {
  const t = useTranslations("quote");
  const locale = useLocale();
  const money = (m: { amount_minor: number; currency: string }) => formatMoney(m.amount_minor, m.currency, locale);
  const nights = quote.lines.filter((l) => l.kind === "night");
  const other = quote.lines.filter((l) => l.kind !== "night");
  return (
    <Stack gap={4} data-testid="quote">
      <Group justify="space-between"><Text size="sm">{t("nights", { count: nights.length })}</Text><Text size="sm">{money(quote.accommodation_subtotal)}</Text></Group>
      {other.map((l, i) => (
        <Group key={i} justify="space-between"><Text size="sm">{l.label}</Text><Text size="sm">{money(l.amount)}</Text></Group>
      ))}
      <Group justify="space-between"><Text fw={700}>{t("total")}</Text><Text fw={700} data-testid="quote-total">{money(quote.total)}</Text></Group>
      {reasons && !quote.bookable && (
        <Alert color="orange" role="status" title={t("notBookable")}>
          {quote.reasons.map((r) => r.message).join(" ")}
        </Alert>
      )}
    </Stack>
  );
}
