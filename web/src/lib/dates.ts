// Calendar dates as ISO strings (YYYY-MM-DD) in the property's local calendar; stays and
// selections are half-open [start, end). Arithmetic in UTC so no time zone shifts a day.
export type IsoDate = string;

const DAY_MS = 86_400_000;

export function parse(d: IsoDate): number {
  return Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)));
}

export function format(ms: number): IsoDate {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(d: IsoDate, n: number): IsoDate {
  return format(parse(d) + n * DAY_MS);
}

export function diffDays(a: IsoDate, b: IsoDate): number {
  return Math.round((parse(b) - parse(a)) / DAY_MS);
}

export function addMonths(d: IsoDate, n: number): IsoDate {
  const t = new Date(parse(d));
  t.setUTCDate(1);
  t.setUTCMonth(t.getUTCMonth() + n);
  return format(t.getTime());
}

export function range(start: IsoDate, end: IsoDate): IsoDate[] {
  const out: IsoDate[] = [];
  for (let t = parse(start); t < parse(end); t += DAY_MS) out.push(format(t));
  return out;
}

/** Today in an IANA time zone (a property's nights start in its own calendar). */
export function today(timeZone?: string, now = new Date()): IsoDate {
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

export function weekday(d: IsoDate): number {
  return new Date(parse(d)).getUTCDay(); // 0 = Sunday
}

export function formatDate(d: IsoDate, locale: string, opts: Intl.DateTimeFormatOptions = { dateStyle: "medium" }): string {
  return new Intl.DateTimeFormat(locale, { ...opts, timeZone: "UTC" }).format(new Date(parse(d)));
}
