import { describe, expect, it } from "vitest";
import { addDays } from "@/lib/dates";
import { allFree, barsOf, colorKey, moved } from "./model";

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
