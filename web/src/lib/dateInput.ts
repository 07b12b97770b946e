// Dates typed by a person, in the order and separators of their language (12.12.2026 in German,
// 12/12/2026 in English), shown back the same way. ISO (2026-12-12) is always understood too.
import { formatDate, type IsoDate } from "./dates";

type Part = "day" | "month" | "year";

/** The numeric date of a locale: the order of its parts and the separator between them. */
export function numericPattern(locale: string): { order: Part[]; separator: string } {
  const parts = new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit", year: "numeric", timeZone: "UTC" }).formatToParts(new Date(Date.UTC(2026, 11, 24)));
  const order = parts.filter((p) => p.type === "day" || p.type === "month" || p.type === "year").map((p) => p.type as Part);
  const separator = parts.find((p) => p.type === "literal")?.value ?? "/";
  return { order, separator };
}

/** A date as a person of this locale writes it with digits: 24.12.2026, 12/24/2026. */
export function formatDateInput(d: IsoDate, locale: string): string {
  return formatDate(d, locale, { day: "2-digit", month: "2-digit", year: "numeric" });
}

/** What to type, e.g. "DD.MM.YYYY" (the letters come from the caller's language). */
export function inputPlaceholder(locale: string, letters: Record<Part, string>): string {
  const { order, separator } = numericPattern(locale);
  return order.map((p) => letters[p].repeat(p === "year" ? 4 : 2)).join(separator);
}

/** Typed text → ISO date, or null while it is not (yet) a real date. Years need four digits. */
export function parseDateInput(text: string, locale: string): IsoDate | null {
  const s = text.trim();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(s);
  if (iso) return valid(Number(iso[1]), Number(iso[2]), Number(iso[3]));
  const pieces = s.split(/[./\-\s]+/).filter(Boolean);
  if (pieces.length !== 3 || pieces.some((p) => !/^\d+$/.test(p))) return null;
  const { order } = numericPattern(locale);
  const at = (part: Part) => pieces[order.indexOf(part)]!;
  if (at("year").length !== 4 || at("day").length > 2 || at("month").length > 2) return null;
  return valid(Number(at("year")), Number(at("month")), Number(at("day")));
}

function valid(y: number, m: number, d: number): IsoDate | null {
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null;
  return t.toISOString().slice(0, 10);
}
