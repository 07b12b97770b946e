import { describe, expect, it } from "vitest";
import { addDays, addMonths, diffDays, formatDate, range, today } from "./dates";
import { weekdayRanges } from "./bulk";
import { formatMoney, parseMajor } from "./money";
import { refundOn } from "./refunds";

describe("dates", () => {
  it("does day arithmetic across month and DST boundaries", () => {
    expect(addDays("2026-03-28", 2)).toBe("2026-03-30");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
    expect(diffDays("2026-02-27", "2026-03-01")).toBe(2);
    expect(addMonths("2026-01-31", 1)).toBe("2026-02-01");
  });

  it("lists the nights of a half-open range", () => {
    expect(range("2026-01-30", "2026-02-02")).toEqual(["2026-01-30", "2026-01-31", "2026-02-01"]);
    expect(range("2026-01-30", "2026-01-30")).toEqual([]);
  });

  it("takes today in the property's time zone", () => {
    const now = new Date("2026-06-30T23:30:00Z");
    expect(today("Europe/Berlin", now)).toBe("2026-07-01");
    expect(today("America/New_York", now)).toBe("2026-06-30");
  });

  it("formats dates per locale", () => {
    expect(formatDate("2026-12-24", "en-US")).toBe("Dec 24, 2026");
    expect(formatDate("2026-12-24", "de")).toBe("24.12.2026");
  });
});

describe("money", () => {
  it("formats minor units per locale and currency", () => {
    expect(formatMoney(31850, "EUR", "de").replace(/\u00a0/g, " ")).toBe("318,50 €");
    expect(formatMoney(31850, "EUR", "en")).toBe("€318.50");
    expect(formatMoney(1200, "JPY", "en")).toBe("¥1,200");
  });

  it("parses what a person types into minor units, refusing what is not an amount", () => {
    expect(parseMajor("120", "EUR")).toBe(12000);
    expect(parseMajor("99,5", "EUR")).toBe(9950);
    expect(parseMajor("1.005", "EUR")).toBeNull();
    expect(parseMajor("abc", "EUR")).toBeNull();
    expect(parseMajor("500", "JPY")).toBe(500);
  });
});

describe("bulk rate edits", () => {
  it("turns weekdays of a range into as few half-open ranges as possible", () => {
    // 2026-12-04 is a Friday.
    expect(weekdayRanges("2026-12-01", "2026-12-15", new Set([5, 6]))).toEqual([
      { start: "2026-12-04", end: "2026-12-06" },
      { start: "2026-12-11", end: "2026-12-13" },
    ]);
    expect(weekdayRanges("2026-12-01", "2026-12-04", new Set([0, 1, 2, 3, 4, 5, 6]))).toEqual([{ start: "2026-12-01", end: "2026-12-04" }]);
  });
});

describe("refund on a day", () => {
  const steps = [
    { first_day: null, last_day: "2026-12-10", refund_percent: "100", refund: { amount_minor: 20000, currency: "EUR" } },
    { first_day: "2026-12-11", last_day: null, refund_percent: "0", refund: { amount_minor: 0, currency: "EUR" } },
  ];
  it("picks the step whose inclusive days hold the date", () => {
    expect(refundOn(steps, "2026-12-10")?.refund_percent).toBe("100");
    expect(refundOn(steps, "2026-12-11")?.refund_percent).toBe("0");
    expect(refundOn([], "2026-12-11")).toBeNull();
  });
});
