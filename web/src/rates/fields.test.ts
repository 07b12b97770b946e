import { describe, expect, it } from "vitest";
import { minorDigits } from "@/lib/money";
import { toBody, toForm, type Field } from "./fields";

const msg = { required: "required", notAmount: "not an amount", notWhole: "not a whole number", notNumber: "not a number" };
const fee: Field[] = [
  { name: "code", label: "Code", type: "text" },
  { name: "label", label: "Label", type: "text", omitBlank: true },
  { name: "currency", label: "Currency", type: "text" },
  { name: "amount_minor", label: "Amount", type: "money" },
  { name: "percent", label: "Percent", type: "decimal", optional: true },
  { name: "guests_included", label: "Guests included", type: "int" },
  { name: "inclusive", label: "Inclusive", type: "bool" },
];

describe("pricing editor forms", () => {
  it("shows stored minor units in major units of the record's currency", () => {
    const form = toForm({ code: "clean", currency: "JPY", amount_minor: 5000, percent: null, guests_included: 2, inclusive: true }, fee, "EUR", minorDigits);
    expect(form).toEqual({ code: "clean", label: "", currency: "JPY", amount_minor: "5000", percent: "", guests_included: "2", inclusive: true });
    expect(toForm({ amount_minor: 4550 }, fee, "EUR", minorDigits).amount_minor).toBe("45.50");
    expect(toForm(null, fee, "EUR", minorDigits).inclusive).toBe(false);
  });

  it("turns typed text into the API's body: minor units, numbers, null for a blank optional", () => {
    const { body, errors } = toBody({ code: " clean ", label: "", currency: "eur", amount_minor: "45,50", percent: "", guests_included: "2", inclusive: false }, fee, "EUR", msg);
    expect(errors).toEqual({});
    expect(body).toEqual({ code: "clean", currency: "EUR", amount_minor: 4550, percent: null, guests_included: 2, inclusive: false });
  });

  it("uses the form's own currency for its amounts", () => {
    const { body } = toBody({ code: "c", currency: "JPY", amount_minor: "500", guests_included: "0" }, fee, "EUR", msg);
    expect(body.amount_minor).toBe(500);
    expect(toBody({ code: "c", currency: "JPY", amount_minor: "5.5", guests_included: "0" }, fee, "EUR", msg).errors.amount_minor).toBe("not an amount");
  });

  it("names each field it cannot read, and what is missing", () => {
    const { errors } = toBody({ code: "", currency: "EUR", amount_minor: "abc", percent: "x", guests_included: "1.5" }, fee, "EUR", msg);
    expect(errors).toEqual({ code: "required", amount_minor: "not an amount", percent: "not a number", guests_included: "not a whole number" });
  });

  it("keeps decimals as text (the API reads exact decimals)", () => {
    expect(toBody({ code: "c", currency: "EUR", amount_minor: "0", percent: "7,5", guests_included: "0" }, fee, "EUR", msg).body.percent).toBe("7.5");
  });
});
