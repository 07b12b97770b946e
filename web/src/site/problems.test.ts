import { describe, expect, it } from "vitest";
import { cancelCode, holdCode, reasonProblems, redirectCode, stayProblems } from "./problems";

describe("a refused stay in the guest's words", () => {
  it("turns each broken rule into its own sentence with its limit or date", () => {
    const problem = {
      detail: "min stay 3 nights; closed to arrival on 2031-09-01",
      errors: [
        { rule: "min_stay", message: "x", limit: 3, actual: 2, dates: ["2031-09-01"] },
        { rule: "closed_to_arrival", message: "x", dates: ["2031-09-01"] },
        { rule: "max_guests", message: "x", limit: 4, actual: 6 },
        { rule: "max_stay", message: "x", limit: 14 },
        { rule: "closed_to_departure", message: "x", dates: ["2031-09-03"] },
        { rule: "booking_window", message: "x" },
        { rule: "unavailable", message: "x", dates: ["2031-09-02"] },
      ],
    };
    expect(stayProblems(422, problem)).toEqual([
      { key: "minStay", values: { nights: 3 } },
      { key: "noArrival", values: { day: "2031-09-01" } },
      { key: "maxGuests", values: { guests: 4 } },
      { key: "maxStay", values: { nights: 14 } },
      { key: "noDeparture", values: { day: "2031-09-03" } },
      { key: "bookingWindow" },
      { key: "unavailable" },
    ]);
  });
  it("has one sentence for any other refusal, never the API's text", () => {
    expect(stayProblems(422, { detail: "check_out must be after check_in", errors: [{ field: "check_out", message: "x" }] })).toEqual([{ key: "invalidStay" }]);
    expect(stayProblems(409, { detail: "taken" })).toEqual([{ key: "taken" }]);
    expect(stayProblems(429, {})).toEqual([{ key: "tooMany" }]);
    expect(stayProblems(null, undefined)).toEqual([{ key: "network" }]);
    expect(stayProblems(503, { detail: "Nothing was saved" })).toEqual([{ key: "failed" }]);
  });
});

describe("redirect codes", () => {
  it("carry a refused hold as one of our codes", () => {
    expect(holdCode(409, {})).toBe("taken");
    expect(holdCode(422, { errors: [{ message: "x", rule: "min_stay", limit: 3 }] })).toBe("notBookable");
    expect(holdCode(422, { errors: [{ field: "check_in", message: "x" }] })).toBe("invalidStay");
    expect(holdCode(null, undefined)).toBe("network");
  });
  it("carry a refused cancellation", () => {
    expect(cancelCode(409)).toBe("cannotCancel");
    expect(cancelCode(500)).toBe("failed");
    expect(cancelCode(null)).toBe("network");
  });
  it("show only codes of ours: a link cannot put its own words on the page", () => {
    expect(redirectCode("taken")).toBe("taken");
    expect(redirectCode("Call +1 555 0100 to claim your refund")).toBeNull();
    expect(redirectCode(["taken"])).toBeNull();
    expect(redirectCode("minStay")).toBeNull();
  });
});

describe("a quote that is not bookable", () => {
  it("gives each reason once, in the guest's words", () => {
    expect(
      reasonProblems([
        { rule: "unavailable", dates: ["2020-01-01", "2020-01-02"] },
        { rule: "booking_window", limit: 0 },
        { rule: "unavailable", dates: ["2020-01-05"] },
        { rule: "something_new" },
      ]),
    ).toEqual([{ key: "unavailable" }, { key: "bookingWindow" }, { key: "notBookable" }]);
  });
});
