import { describe, expect, it } from "vitest";
import { addDays, nightsOf, policyPhrases, stayOf, stayQuery } from "./stay";

describe("stay from the URL", () => {
  it("reads Google's landing template", () => {
    const s = stayOf({ check_in: "2031-09-01", check_out: "2031-09-04", adults: "3" });
    expect(s).toEqual({ checkIn: "2031-09-01", checkOut: "2031-09-04", adults: 3 });
    expect(nightsOf(s!)).toBe(3);
    expect(stayQuery(s!)).toBe("check_in=2031-09-01&check_out=2031-09-04&adults=3");
  });
  it("drops impossible dates and reversed stays", () => {
    expect(stayOf({ check_in: "2031-02-30", check_out: "2031-03-02" })).toBeNull();
    expect(stayOf({ check_in: "2031-09-04", check_out: "2031-09-01" })).toBeNull();
    expect(stayOf({ check_in: "x", check_out: "2031-09-01" })).toBeNull();
    expect(stayOf({ check_in: "2031-09-01", check_out: "2031-09-02", adults: "0" })?.adults).toBe(2);
  });
  it("adds days across months", () => {
    expect(addDays("2031-01-31", 1)).toBe("2031-02-01");
  });
  it("phrases a cancellation schedule", () => {
    expect(
      policyPhrases([
        { first_day: null, last_day: "2031-08-01", refund_percent: "100" },
        { first_day: "2031-08-02", last_day: null, refund_percent: "0" },
      ]),
    ).toEqual([
      { kind: "until", day: "2031-08-01", percent: 100 },
      { kind: "from", day: "2031-08-02", percent: 0 },
    ]);
  });
});
