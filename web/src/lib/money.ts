// Money is integer minor units plus an ISO 4217 currency; Intl formats it per locale.
export function minorDigits(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  const digits = minorDigits(currency);
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(amountMinor / 10 ** digits);
}

/** "123.45" or "123,45" typed by a person → minor units; null when it is not an amount. */
export function parseMajor(text: string, currency: string): number | null {
  const cleaned = text.trim().replace(/\s/g, "").replace(",", ".");
  if (!/^\d+(\.\d{0,3})?$/.test(cleaned)) return null;
  const digits = minorDigits(currency);
  const [whole = "0", frac = ""] = cleaned.split(".");
  if (frac.length > digits) return null;
  return Number(whole) * 10 ** digits + Number(frac.padEnd(digits, "0") || "0");
}
