// What the checkout form says when the guest's details cannot be taken, in the guest's language:
// the form's own checks before anything is sent, and the API's answer mapped to the same words.
// The API's problem documents are written for developers (English, field paths); a guest sees
// one sentence and a short message at each field instead.
import type { Problem } from "@/api/problem";

export type CheckoutField = "first_name" | "last_name" | "email" | "phone" | "accepted_terms" | "payment";

/** Keys of `site.checkoutErrors` in messages/*.json. */
export type CheckoutMessage =
  | "checkFields"
  | "lastNameRequired"
  | "lastNameInvalid"
  | "firstNameInvalid"
  | "emailRequired"
  | "emailInvalid"
  | "phoneInvalid"
  | "termsRequired"
  | "paymentUnavailable"
  | "tooMany"
  | "rejected"
  | "failed"
  | "network";

export type CheckoutErrors = {
  /** The sentence above the form; null when there is nothing to say there. */
  summary: CheckoutMessage | null;
  fields: Partial<Record<CheckoutField, CheckoutMessage>>;
  /** The hold is gone (ran out, used, unknown): the form offers to hold the dates again. */
  holdGone: boolean;
};

export type CheckoutValues = {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  acceptedTerms: boolean;
};

// The shape every mail system accepts; the API checks the address fully.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()./-]{4,40}$/;
const NAME_MAX = 100;

/** The form's own checks, before anything is sent. */
export function checkDetails(v: CheckoutValues): CheckoutErrors | null {
  const fields: CheckoutErrors["fields"] = {};
  if (!v.lastName) fields.last_name = "lastNameRequired";
  else if (v.lastName.length > NAME_MAX) fields.last_name = "lastNameInvalid";
  if (v.firstName.length > NAME_MAX) fields.first_name = "firstNameInvalid";
  if (!v.email) fields.email = "emailRequired";
  else if (!EMAIL.test(v.email)) fields.email = "emailInvalid";
  if (v.phone && !PHONE.test(v.phone)) fields.phone = "phoneInvalid";
  if (!v.acceptedTerms) fields.accepted_terms = "termsRequired";
  return Object.keys(fields).length ? { summary: "checkFields", fields, holdGone: false } : null;
}

const INVALID: Record<string, [CheckoutField, CheckoutMessage]> = {
  first_name: ["first_name", "firstNameInvalid"],
  last_name: ["last_name", "lastNameInvalid"],
  email: ["email", "emailInvalid"],
  phone: ["phone", "phoneInvalid"],
  accepted_terms: ["accepted_terms", "termsRequired"],
  payment_method: ["payment", "paymentUnavailable"],
  offline_method: ["payment", "paymentUnavailable"],
};

/** The API's answer to the booking request (`status` null: no answer at all). */
export function fromResponse(status: number | null, problem: Problem | undefined): CheckoutErrors {
  const none = { summary: null, fields: {}, holdGone: false };
  if (status === null) return { ...none, summary: "network" };
  // No hold with this token (404), or one used or run out (409).
  if (status === 404 || status === 409) return { ...none, holdGone: true };
  if (status === 429) return { ...none, summary: "tooMany" };
  if (status === 400 || status === 422) {
    const fields: CheckoutErrors["fields"] = {};
    let other = false;
    for (const e of problem?.errors ?? []) {
      const known = INVALID[e.field.split(".").pop() ?? ""];
      if (known) fields[known[0]] = known[1];
      else if (e.field.split(".").pop() === "hold_token") return { ...none, holdGone: true };
      else other = true;
    }
    if (Object.keys(fields).length && !other) return { summary: "checkFields", fields, holdGone: false };
    // A refusal not about a field the guest filled in (the honeypot, a malformed request).
    return { summary: other ? "failed" : "rejected", fields, holdGone: false };
  }
  return { ...none, summary: "failed" };
}
