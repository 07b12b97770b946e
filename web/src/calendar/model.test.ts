import { describe, expect, it } from "vitest";
import { addDays } from "@/lib/dates";
import { allFree, barsOf, colorKey, moved, ratesOf, requestBarsOf, rowAfterDrag, type Booking } from "./model";

const cal = {
  property_id: "p",
  days: [
    { date: "2026-12-01", status: "booked", booking_id: "b1", label: "PMS-1" },
    { date: "2026-12-02", status: "booked", booking_id: "b1", label: "PMS-1" },
    { date: "2026-12-03", status: "booked", booking_id: "b2", label: "PMS-2" },
    { date: "2026-12-04", status: "free" },
    { date: "2026-12-05", status: "blocked", block_id: "k1", label: "ical block" },
    { date: "2026-12-06", status: "hold", booking_id: "b3", label: "PMS-3" },
  ],
};

describe("bars of a calendar row", () => {
  const bars = barsOf(cal, "2026-12-01", "2026-12-07");
  it("makes one bar per consecutive stay, back-to-back stays apart", () => {
    expect(bars.map((b) => [b.key, b.start, b.end, b.col, b.span])).toEqual([
      ["booking:b1", "2026-12-01", "2026-12-03", 0, 2],
      ["booking:b2", "2026-12-03", "2026-12-04", 2, 1],
      ["block:k1", "2026-12-05", "2026-12-06", 4, 1],
      ["hold:b3", "2026-12-06", "2026-12-07", 5, 1],
    ]);
  });
  it("marks bars cut by the window's edges", () => {
    expect(bars[0]?.clippedStart).toBe(true);
    expect(bars[3]?.clippedEnd).toBe(true);
    expect(bars[1]?.clippedStart || bars[1]?.clippedEnd).toBe(false);
  });
  it("colours iCal-imported blocks apart from other blocks and bookings by source", () => {
    expect(colorKey(bars[2]!, undefined)).toBe("ical_block");
    expect(colorKey(bars[0]!, { source: "airbnb" } as never)).toBe("airbnb");
  });
  it("tells whether a selection is all free nights", () => {
    expect(allFree(cal, "2026-12-04", "2026-12-05")).toBe(true);
    expect(allFree(cal, "2026-12-03", "2026-12-05")).toBe(false);
  });
});

describe("dragging a stay", () => {
  const stay = { check_in: "2026-12-01", check_out: "2026-12-04" };
  it("moves both dates, or one edge keeping at least a night", () => {
    expect(moved(stay, "move", 2, addDays)).toEqual({ check_in: "2026-12-03", check_out: "2026-12-06" });
    expect(moved(stay, "end", -2, addDays)).toEqual({ check_in: "2026-12-01", check_out: "2026-12-02" });
    expect(moved(stay, "end", -3, addDays)).toBeNull();
    expect(moved(stay, "start", 3, addDays)).toBeNull();
    expect(moved(stay, "move", 0, addDays)).toBeNull();
  });
});

describe("requests, rates and rows", () => {
  const booking = (id: string, status: Booking["status"], check_in: string, check_out: string, property_id = "p") =>
    ({ id, status, check_in, check_out, property_id, reference: `PMS-${id}` }) as Booking;

  it("draws open requests and inquiries of the row's property, clipped to the window", () => {
    const bars = requestBarsOf(
      [
        booking("r1", "requested", "2026-12-03", "2026-12-05"),
        booking("r2", "inquiry", "2026-11-28", "2026-12-02"),
        booking("c1", "confirmed", "2026-12-01", "2026-12-03"),
        booking("d1", "declined", "2026-12-01", "2026-12-03"),
        booking("o1", "requested", "2026-12-03", "2026-12-05", "other"),
        booking("r3", "requested", "2026-12-07", "2026-12-09"),
      ],
      "p",
      "2026-12-01",
      "2026-12-07",
    );
    expect(bars.map((b) => [b.key, b.kind, b.start, b.end, b.col, b.span, b.clippedStart])).toEqual([
      ["request:r2", "request", "2026-12-01", "2026-12-02", 0, 1, true],
      ["request:r1", "request", "2026-12-03", "2026-12-05", 2, 2, false],
    ]);
  });

  it("takes the default plan's price, minimum stay and closed nights for the overlay", () => {
    const day = (date: string, amount: number, min_stay: number, available = true) => ({
      date, available, price: { amount_minor: amount, currency: "EUR", amount: String(amount / 100) }, min_stay, min_stay_source: "plan", max_stay: null as number | null, closed_to_arrival: false, closed_to_departure: !available,
    });
    const rates = ratesOf({
      property_id: "p", currency: "EUR", start: "2026-12-01", end: "2026-12-03",
      rate_plans: [
        { rate_plan_id: "x", name: "Other", is_default: false, days: [day("2026-12-01", 1, 9)] },
        { rate_plan_id: "d", name: "Standard", is_default: true, days: [day("2026-12-01", 12000, 2), day("2026-12-02", 15000, 3, false)] },
      ],
    });
    expect(rates.get("2026-12-01")).toEqual({ price: 12000, minStay: 2, closed: false, cta: false, ctd: false });
    expect(rates.get("2026-12-02")).toEqual({ price: 15000, minStay: 3, closed: true, cta: false, ctd: true });
    expect(ratesOf({ property_id: "p", currency: "EUR", start: "2026-12-01", end: "2026-12-03", rate_plans: [] }).size).toBe(0);
  });

  it("finds the row a bar is dragged to, and stays within the rows", () => {
    expect(rowAfterDrag(3, 0, 44, 10)).toBe(3);
    expect(rowAfterDrag(3, 30, 44, 10)).toBe(4);
    expect(rowAfterDrag(3, 20, 44, 10)).toBe(3);
    expect(rowAfterDrag(3, -100, 44, 10)).toBe(1);
    expect(rowAfterDrag(3, -1000, 44, 10)).toBe(0);
    expect(rowAfterDrag(8, 1000, 44, 10)).toBe(9);
  });
});
