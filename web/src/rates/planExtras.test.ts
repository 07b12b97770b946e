import { describe, expect, it } from "vitest";
import { fromPlan, toPlanExtras } from "./planExtras";

describe("plan weekday prices and long-stay discounts", () => {
  it("sends typed prices in minor units by weekday, blanks left to the base price", () => {
    const { body, errors } = toPlanExtras(["", "", "", "", "120", "130,50", ""], [{ min_nights: 7, percent: 10 }], "EUR");
    expect(errors).toEqual({});
    expect(body).toEqual({ weekday_prices: { "4": 12000, "5": 13050 }, los_discounts: [{ min_nights: 7, percent: "10" }] });
  });

  it("names the field a person must fix", () => {
    const { errors } = toPlanExtras(["zwölf", "", "", "", "", "", ""], [{ min_nights: 7, percent: 5 }, { min_nights: 7, percent: 10 }], "EUR");
    expect(errors).toEqual({ "weekday_prices.0": "not an amount", "los_discounts.1.min_nights": "twice" });
  });

  it("reads stored prices back, in the currency's digits", () => {
    expect(fromPlan({ "4": 12000, "6": 9950 }, 2)).toEqual(["", "", "", "", "120.00", "", "99.50"]);
    expect(fromPlan({ "0": 5000 }, 0)).toEqual(["5000", "", "", "", "", "", ""]);
  });
});
