// A stay as the booking site's URLs carry it (?check_in=YYYY-MM-DD&check_out=…&adults=N: also
// Google Vacation Rentals' landing-page template), read leniently: anything invalid is dropped.
const ISO = /^\d{4}-\d{2}-\d{2}$/;

export type Stay = { checkIn: string; checkOut: string; adults: number };
type Params = Record<string, string | string[] | undefined>;

function one(p: Params, key: string): string | undefined {
  const v = p[key];
  return Array.isArray(v) ? v[0] : v;
}

function validDay(s: string | undefined): string | undefined {
  if (!s || !ISO.test(s)) return undefined;
  const d = new Date(`${s}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== s ? undefined : s;
}

export function adultsOf(p: Params): number {
  const n = Number(one(p, "adults") ?? "2");
  return Number.isInteger(n) && n >= 1 && n <= 50 ? n : 2;
}

export function stayOf(p: Params): Stay | null {
  const checkIn = validDay(one(p, "check_in"));
  const checkOut = validDay(one(p, "check_out"));
  if (!checkIn || !checkOut || checkOut <= checkIn) return null;
  return { checkIn, checkOut, adults: adultsOf(p) };
}

export function stayQuery(s: Stay): string {
  return new URLSearchParams({ check_in: s.checkIn, check_out: s.checkOut, adults: String(s.adults) }).toString();
}

export function nightsOf(s: Stay): number {
  return Math.round((Date.parse(s.checkOut) - Date.parse(s.checkIn)) / 86_400_000);
}

export function addDays(iso: string, n: number): string {
  return new Date(Date.parse(`${iso}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
}

export type Step = { first_day: string | null; last_day: string | null; refund_percent: string };

/** The cancellation schedule as plain sentences' data: until when which share comes back. */
export function policyPhrases(steps: Step[]): { kind: "until" | "from" | "always"; day: string | null; percent: number }[] {
  return steps.map((s) => {
    const percent = Math.round(Number(s.refund_percent));
    if (s.last_day !== null && s.first_day === null) return { kind: "until", day: s.last_day, percent };
    if (s.first_day !== null) return { kind: s.last_day === null ? "from" : "until", day: s.last_day ?? s.first_day, percent };
    return { kind: "always", day: null, percent };
  });
}
