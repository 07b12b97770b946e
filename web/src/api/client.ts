// The one way the app talks to the API: openapi-fetch typed from the generated schema, with
// the bearer token (refreshed silently), the chosen agency and an Idempotency-Key on POSTs.
import createClient, { type Middleware } from "openapi-fetch";
import * as session from "@/auth/session";
import type { paths } from "./schema";
import { ApiError, asProblem } from "./problem";

/** fetch with the session: a 401 refreshes the tokens once and repeats the request. */
export async function authFetch(request: Request): Promise<Response> {
  const retry = request.clone();
  const token = await session.accessToken();
  if (token) request.headers.set("authorization", `Bearer ${token}`);
  const res = await fetch(request);
  if (res.status !== 401 || !token || !(await session.refresh())) return res;
  const fresh = await session.accessToken();
  if (fresh) retry.headers.set("authorization", `Bearer ${fresh}`);
  return fetch(retry);
}

const agencyAndIdempotency: Middleware = {
  onRequest({ request }) {
    const agency = session.agencyId();
    if (agency && !request.headers.has("x-agency-id")) request.headers.set("x-agency-id", agency);
    if (request.method === "POST" && !request.headers.has("idempotency-key")) {
      request.headers.set("idempotency-key", crypto.randomUUID());
    }
    return request;
  },
};

export function makeClient(baseUrl: string) {
  const client = createClient<paths>({ baseUrl, fetch: authFetch });
  client.use(agencyAndIdempotency);
  return client;
}

// In the browser the API is on this origin (proxied by the Next server); elsewhere
// (unit tests) the caller gives it.
export const api = makeClient(typeof window === "undefined" ? "http://127.0.0.1" : window.location.origin);

type Result<T> = { data?: T; error?: unknown; response: Response };

/** The data of a successful call, or an ApiError carrying the RFC 9457 problem. */
export async function unwrap<T>(call: Promise<Result<T>>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, asProblem(error));
  return data as T;
}
