import { describe, expect, it } from "vitest";
import { formatDateInput, inputPlaceholder, numericPattern, parseDateInput } from "./dateInput";

describe("date inputs follow the locale", () => {
  it("knows each language's order and separator", () => {
    expect(numericPattern("de")).toEqual({ order: ["day", "month", "year"], separator: "." });
    expect(numericPattern("en")).toEqual({ order: ["month", "day", "year"], separator: "/" });
  });

  it("shows a date the way the language writes it", () => {
    expect(formatDateInput("2026-12-03", "de")).toBe("03.12.2026");
    expect(formatDateInput("2026-12-03", "en")).toBe("12/03/2026");
    expect(inputPlaceholder("de", { day: "T", month: "M", year: "J" })).toBe("TT.MM.JJJJ");
    expect(inputPlaceholder("en", { day: "D", month: "M", year: "Y" })).toBe("MM/DD/YYYY");
  });

  it("reads what a German and an English user type, and ISO in both", () => {
    expect(parseDateInput("3.12.2026", "de")).toBe("2026-12-03");
    expect(parseDateInput("03.12.2026", "de")).toBe("2026-12-03");
    expect(parseDateInput("12/03/2026", "en")).toBe("2026-12-03");
    expect(parseDateInput(" 2026-12-03 ", "de")).toBe("2026-12-03");
    expect(parseDateInput("2026-12-03", "en")).toBe("2026-12-03");
  });

  it("gives no date for half-typed or impossible input", () => {
    expect(parseDateInput("03.12.20", "de")).toBeNull(); // the year is still being typed
    expect(parseDateInput("31.02.2026", "de")).toBeNull();
    expect(parseDateInput("13/13/2026", "en")).toBeNull();
    expect(parseDateInput("2026-02-30", "en")).toBeNull();
    expect(parseDateInput("03.12", "de")).toBeNull();
    expect(parseDateInput("", "de")).toBeNull();
    expect(parseDateInput("a.b.cccc", "de")).toBeNull();
  });
});
