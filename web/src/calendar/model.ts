// The calendar's rows: each property's days in the window turned into bars (a booking, a hold or
// a block over consecutive nights), clipped to the window, with their column span.
import type { components } from "@/api/schema";
import { diffDays, type IsoDate } from "@/lib/dates";

type Day = components["schemas"]["Day"];
type PropertyCalendar = components["schemas"]["PropertyCalendar"];
export type Booking = components["schemas"]["Booking"];
export type Block = components["schemas"]["Block"];
export type Source = components["schemas"]["BookingSource"];

export type Bar = {
  key: string;
  /** A request (or inquiry) holds no nights; it is drawn apart so a manager sees it. */
  kind: "booking" | "hold" | "block" | "request";
  bookingId: string | null;
  blockId: string | null;
  label: string;
  /** First and last+1 night shown in the window (half-open). */
  start: IsoDate;
  end: IsoDate;
  col: number;
  span: number;
  clippedStart: boolean;
  clippedEnd: boolean;
};

function kindOf(day: Day): Bar["kind"] | null {
  if (day.status === "booked") return "booking";
  if (day.status === "hold") return "hold";
  if (day.status === "blocked") return "block";
  return null;
}

export function barsOf(cal: PropertyCalendar, windowStart: IsoDate, windowEnd: IsoDate): Bar[] {
  const bars: Bar[] = [];
  let current: Bar | null = null;
  for (const day of cal.days) {
    const kind = kindOf(day);
    const id = day.booking_id ?? day.block_id ?? null;
    const key = kind && id ? `${kind}:${id}` : null;
    if (current && key === current.key && diffDays(current.end, day.date) === 0) {
      current.end = nextDay(day.date);
      current.span += 1;
      continue;
    }
    if (current) bars.push(current);
    current = null;
    if (!key || !kind) continue;
    current = {
      key,
      kind,
      bookingId: day.booking_id ?? null,
      blockId: day.block_id ?? null,
      label: day.label ?? "",
      start: day.date,
      end: nextDay(day.date),
      col: diffDays(windowStart, day.date),
      span: 1,
      clippedStart: day.date === windowStart,
      clippedEnd: false,
    };
  }
  if (current) bars.push(current);
  for (const b of bars) b.clippedEnd = b.end === windowEnd;
  return bars;
}

function nextDay(d: IsoDate): IsoDate {
  const t = Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)) + 1);
  return new Date(t).toISOString().slice(0, 10);
}

/** Open requests to book (and inquiries) of one property, clipped to the window. */
export const REQUEST_STATUSES: ReadonlySet<Booking["status"]> = new Set(["requested", "inquiry"]);

export function requestBarsOf(bookings: Iterable<Booking>, propertyId: string, windowStart: IsoDate, windowEnd: IsoDate): Bar[] {
  const bars: Bar[] = [];
  for (const b of bookings) {
    if (b.property_id !== propertyId || !REQUEST_STATUSES.has(b.status)) continue;
    if (b.check_out <= windowStart || b.check_in >= windowEnd) continue;
    const start = b.check_in < windowStart ? windowStart : b.check_in;
    const end = b.check_out > windowEnd ? windowEnd : b.check_out;
    bars.push({
      key: `request:${b.id}`,
      kind: "request",
      bookingId: b.id,
      blockId: null,
      label: b.reference,
      start,
      end,
      col: diffDays(windowStart, start),
      span: diffDays(start, end),
      clippedStart: b.check_in < windowStart,
      clippedEnd: b.check_out > windowEnd,
    });
  }
  return bars.sort((a, b) => a.col - b.col);
}

/** A night's rate for the overlay: the default plan's price, minimum stay and closedness. */
export type DayRate = { price: number; minStay: number; closed: boolean; cta: boolean; ctd: boolean };
type Ari = components["schemas"]["Ari"];

export function ratesOf(ari: Ari): Map<IsoDate, DayRate> {
  const plan = ari.rate_plans.find((p) => p.is_default) ?? ari.rate_plans[0];
  return new Map(
    (plan?.days ?? []).map((d) => [
      d.date,
      { price: d.price.amount_minor, minStay: d.min_stay, closed: !d.available, cta: d.closed_to_arrival, ctd: d.closed_to_departure },
    ]),
  );
}

/** Which row a bar dragged `dy` pixels down (up when negative) lands on, within the rows. */
export function rowAfterDrag(index: number, dy: number, rowHeight: number, count: number): number {
  return Math.max(0, Math.min(count - 1, index + Math.round(dy / rowHeight)));
}

/** The nights of [start, end) in a row are all free (a selection may become a booking). */
export function allFree(cal: PropertyCalendar, start: IsoDate, end: IsoDate): boolean {
  return cal.days.every((d) => d.date < start || d.date >= end || d.status === "free");
}

export const SOURCE_COLORS: Record<Source | "block" | "ical_block", { bg: string; fg: string }> = {
  direct: { bg: "#1c7ed6", fg: "#ffffff" },
  airbnb: { bg: "#c92a2a", fg: "#ffffff" },
  booking_com: { bg: "#1b3a8c", fg: "#ffffff" },
  expedia: { bg: "#8f6a00", fg: "#ffffff" },
  fewo_direkt: { bg: "#0b7285", fg: "#ffffff" },
  google: { bg: "#2b8a3e", fg: "#ffffff" },
  ical: { bg: "#6741d9", fg: "#ffffff" },
  manual: { bg: "#495057", fg: "#ffffff" },
  block: { bg: "#ced4da", fg: "#212529" },
  ical_block: { bg: "#e5dbff", fg: "#3b1f8c" },
};

/** Which colour a bar gets: bookings by source, iCal-imported blocks apart from other blocks. */
export function colorKey(bar: Bar, booking: Booking | undefined): keyof typeof SOURCE_COLORS {
  if (bar.kind === "block") return bar.label.startsWith("ical") ? "ical_block" : "block";
  return booking?.source ?? "manual";
}

/** Moving a stay by whole days keeps its length; resizing moves one edge and keeps ≥ 1 night. */
export function moved(
  b: { check_in: IsoDate; check_out: IsoDate },
  mode: "move" | "start" | "end",
  days: number,
  addDays: (d: IsoDate, n: number) => IsoDate,
): { check_in: IsoDate; check_out: IsoDate } | null {
  if (days === 0) return null;
  if (mode === "move") return { check_in: addDays(b.check_in, days), check_out: addDays(b.check_out, days) };
  if (mode === "start") {
    const ci = addDays(b.check_in, days);
    return ci < b.check_out ? { check_in: ci, check_out: b.check_out } : null;
  }
  const co = addDays(b.check_out, days);
  return co > b.check_in ? { check_in: b.check_in, check_out: co } : null;
}
