// A rate plan's weekday prices and length-of-stay discounts, as typed in the plan editor, into
// the PATCH body the API takes (or the fields a person must fix first).
import { parseMajor } from "@/lib/money";

export type LosRow = { min_nights: number; percent: number };
export type PlanExtras = { weekday_prices: Record<string, number>; los_discounts: { min_nights: number; percent: string }[] };

/** weekdays: 7 texts, Monday first; blank means the plan's base price. */
export function toPlanExtras(weekdays: string[], los: LosRow[], currency: string): { body: PlanExtras; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const weekday_prices: Record<string, number> = {};
  weekdays.forEach((text, day) => {
    if (!text.trim()) return;
    const minor = parseMajor(text, currency);
    if (minor === null) errors[`weekday_prices.${day}`] = "not an amount";
    else weekday_prices[String(day)] = minor;
  });
  const seen = new Set<number>();
  los.forEach((row, i) => {
    if (seen.has(row.min_nights)) errors[`los_discounts.${i}.min_nights`] = "twice";
    seen.add(row.min_nights);
  });
  return { body: { weekday_prices, los_discounts: los.map((r) => ({ min_nights: r.min_nights, percent: String(r.percent) })) }, errors };
}

/** The plan's stored values back into the editor's texts. */
export function fromPlan(prices: Record<string, number>, currencyDigits: number): string[] {
  return Array.from({ length: 7 }, (_, day) => {
    const minor = prices[String(day)];
    return minor === undefined ? "" : (minor / 10 ** currencyDigits).toFixed(currencyDigits);
  });
}
