// RFC 9457 problem documents as the API words them, and their field errors by field name.
export type FieldError = { field: string; message: string; in?: string };
export type Problem = {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: FieldError[];
  conflict_type?: string;
  clash?: { start?: string; end?: string } | null;
  [key: string]: unknown;
};

export class ApiError extends Error {
  readonly problem: Problem;
  readonly status: number;

  constructor(status: number, problem: Problem) {
    super(problemMessage(problem, status));
    this.status = status;
    this.problem = problem;
  }
}

/** The one sentence to show: the API's `detail`, else its `title`. */
export function problemMessage(problem: Problem | undefined, status?: number): string {
  if (problem?.detail) return problem.detail;
  if (problem?.title) return problem.title;
  return status ? `Request failed (${status})` : "Request failed";
}

/** Field errors keyed by the last part of their field path (`body.check_in` → `check_in`). */
export function fieldErrors(problem: Problem | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of problem?.errors ?? []) {
    const key = e.field.split(".").pop() ?? e.field;
    out[key] = out[key] ? `${out[key]}; ${e.message}` : e.message;
  }
  return out;
}

export function asProblem(value: unknown): Problem {
  if (value && typeof value === "object") return value as Problem;
  return {};
}
