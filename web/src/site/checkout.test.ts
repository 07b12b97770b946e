import { describe, expect, it } from "vitest";
import { checkDetails, fromResponse } from "./checkout";

const filled = { firstName: "Ada", lastName: "Lovelace", email: "ada@example.com", phone: "", acceptedTerms: true };

describe("the checkout form's own checks", () => {
  it("lets complete details through", () => {
    expect(checkDetails(filled)).toBeNull();
    expect(checkDetails({ ...filled, phone: "+49 30 1234567" })).toBeNull();
  });
  it("names every missing or malformed field at once", () => {
    expect(checkDetails({ firstName: "", lastName: "", email: "", phone: "", acceptedTerms: false })).toEqual({
      summary: "checkFields",
      fields: { last_name: "lastNameRequired", email: "emailRequired", accepted_terms: "termsRequired" },
      holdGone: false,
    });
    expect(checkDetails({ ...filled, email: "ada@", phone: "call me" })?.fields).toEqual({
      email: "emailInvalid",
      phone: "phoneInvalid",
    });
    expect(checkDetails({ ...filled, lastName: "x".repeat(101) })?.fields).toEqual({ last_name: "lastNameInvalid" });
  });
});

describe("the API's answer in the guest's words", () => {
  it("maps field errors to the fields, whatever their path", () => {
    const problem = {
      detail: "Validation failed",
      errors: [
        { field: "body.guest.email", message: "value is not a valid email address" },
        { field: "accepted_terms", message: "Input should be True" },
      ],
    };
    expect(fromResponse(422, problem)).toEqual({
      summary: "checkFields",
      fields: { email: "emailInvalid", accepted_terms: "termsRequired" },
      holdGone: false,
    });
    expect(fromResponse(422, { errors: [{ field: "payment_method", message: "not available" }] }).fields).toEqual({
      payment: "paymentUnavailable",
    });
  });
  it("says the hold is gone for an unknown, used or expired hold", () => {
    expect(fromResponse(409, { conflict_type: "hold-expired" }).holdGone).toBe(true);
    expect(fromResponse(404, {}).holdGone).toBe(true);
    expect(fromResponse(422, { errors: [{ field: "body.hold_token", message: "too short" }] }).holdGone).toBe(true);
  });
  it("has a sentence for everything else, never the API's own text", () => {
    expect(fromResponse(null, undefined).summary).toBe("network");
    expect(fromResponse(429, { detail: "Too many requests" }).summary).toBe("tooMany");
    expect(fromResponse(500, { detail: "Internal" }).summary).toBe("failed");
    expect(fromResponse(422, { errors: [{ field: "body.website", message: "x" }] }).summary).toBe("failed");
    expect(fromResponse(400, { detail: "The request was rejected." }).summary).toBe("rejected");
  });
});
