// What the guest site says when the API refuses a stay, a hold or a cancellation, in the guest's
// language. The API's problem documents are written for developers (English); the restrictions
// it names (`rule`, `limit`, `dates`) become sentences here. Redirects carry only a code, never
// text: a link cannot put words of its own on our page.

/** Keys of `site.problems` in messages/*.json. */
export type ProblemKey =
  | "minStay"
  | "maxStay"
  | "noArrival"
  | "noDeparture"
  | "maxGuests"
  | "bookingWindow"
  | "unavailable"
  | "notBookable"
  | "taken"
  | "invalidStay"
  | "tooMany"
  | "cannotCancel"
  | "network"
  | "failed";

export type SiteProblem = { key: ProblemKey; values?: Record<string, string | number> };

/** The codes a redirect may carry (`?error=`), each shown by its message alone. */
export const REDIRECT_CODES: readonly ProblemKey[] = ["notBookable", "taken", "invalidStay", "tooMany", "cannotCancel", "network", "failed"];

type RuleError = { rule?: string; limit?: number | null; dates?: string[] };
/** A problem document as far as these read it: its `errors` (field errors or broken rules). */
export type Refusal = { errors?: readonly object[]; detail?: string } | undefined;

function rule(e: RuleError): SiteProblem | null {
  const limit = e.limit ?? 0;
  const day = e.dates?.[0] ?? "";
  switch (e.rule) {
    case "min_stay":
      return { key: "minStay", values: { nights: limit } };
    case "max_stay":
      return { key: "maxStay", values: { nights: limit } };
    case "closed_to_arrival":
      return { key: "noArrival", values: { day } };
    case "closed_to_departure":
      return { key: "noDeparture", values: { day } };
    case "max_guests":
      return { key: "maxGuests", values: { guests: limit } };
    case "booking_window":
      return { key: "bookingWindow" };
    case "unavailable":
      return { key: "unavailable" };
    default:
      return null;
  }
}

/** A quote's reasons for not being bookable (`reasons`: `rule`, `limit`, `dates`), each once. */
export function reasonProblems(reasons: readonly RuleError[]): SiteProblem[] {
  const out: SiteProblem[] = [];
  for (const r of reasons) {
    const p = rule(r) ?? { key: "notBookable" };
    if (!out.some((o) => o.key === p.key)) out.push(p);
  }
  return out;
}

/** The API's refusal of a stay (a quote, a hold, a search): one sentence per broken rule, else
 * one sentence for the whole answer. `status` null: no answer at all. */
export function stayProblems(status: number | null, problem: Refusal): SiteProblem[] {
  if (status === null) return [{ key: "network" }];
  if (status === 409) return [{ key: "taken" }];
  if (status === 429) return [{ key: "tooMany" }];
  if (status === 422 || status === 400) {
    const rules = (problem?.errors ?? []).map((e) => rule(e as RuleError)).filter((p): p is SiteProblem => p !== null);
    if (rules.length) return rules;
    return [{ key: "invalidStay" }];
  }
  return [{ key: "failed" }];
}

/** The first sentence of `stayProblems`, where there is room for one. */
export function firstProblem(status: number | null, problem: Refusal): ProblemKey {
  return stayProblems(status, problem)[0]?.key ?? "failed";
}

/** The one code a redirect carries for a refused hold. */
export function holdCode(status: number | null, problem: Refusal): ProblemKey {
  const first = firstProblem(status, problem);
  return REDIRECT_CODES.includes(first) ? first : "notBookable";
}

/** The code a redirect carries for a refused cancellation. */
export function cancelCode(status: number | null): ProblemKey {
  if (status === null) return "network";
  if (status === 409 || status === 422) return "cannotCancel";
  if (status === 429) return "tooMany";
  return "failed";
}

/** A redirect's `?error=` code, if it is one of ours. */
export function redirectCode(value: unknown): ProblemKey | null {
  return typeof value === "string" && (REDIRECT_CODES as readonly string[]).includes(value) ? (value as ProblemKey) : null;
}
