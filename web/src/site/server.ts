// The guests' booking site reads the public Direct Booking Engine API from the Next server
// (pages render without JavaScript): openapi-fetch typed from the generated schema, no login.
import createClient, { type Middleware } from "openapi-fetch";
import { notFound } from "next/navigation";
import type { components, paths } from "@/api/schema";

export type PublicProperty = components["schemas"]["PublicProperty"];
export type Quote = components["schemas"]["Quote"];
export type PublicBooking = components["schemas"]["PublicBooking"];
export type CalendarDay = components["schemas"]["CalendarDayOut"];
export type SearchResults = components["schemas"]["SearchResults"];

export const apiBase = () => process.env.API_URL ?? "http://127.0.0.1:8000";

// The guest's address goes along (Next sets X-Forwarded-For), so the API's per-address limits
// count guests, not this server, once FORWARDED_ALLOW_IPS names this server.
const forwardGuest: Middleware = {
  async onRequest({ request }) {
    const { headers } = await import("next/headers");
    const from = (await headers()).get("x-forwarded-for");
    if (from) request.headers.set("x-forwarded-for", from);
    return request;
  },
};

export const publicApi = () => {
  const client = createClient<paths>({ baseUrl: apiBase(), fetch: (r: Request) => fetch(r, { cache: "no-store" }) });
  client.use(forwardGuest);
  return client;
};

/** The data, or the page's 404 when the API has no such agency, property or booking. */
export async function orNotFound<T>(call: Promise<{ data?: T; response: Response }>): Promise<T> {
  const { data, response } = await call;
  if (response.status === 404 || response.status === 422) notFound();
  if (!response.ok || data === undefined) throw new Error(`API ${response.status}`);
  return data;
}

export async function agencyOf(slug: string) {
  return orNotFound(publicApi().GET("/api/v1/public/{agency}", { params: { path: { agency: slug } } }));
}

/** A photo through this origin (/api/v1 is passed on to the API), so next/image can size it. */
export function photoPath(slug: string, photoId: string): string {
  return `/api/v1/public/${slug}/photos/${photoId}`;
}

/** This site's origin as the guest reached it (a custom domain too), for absolute links. */
export async function siteOrigin(): Promise<string> {
  const { headers } = await import("next/headers");
  const h = await headers();
  const host = h.get("x-forwarded-host") ?? h.get("host") ?? "127.0.0.1:3000";
  const proto = h.get("x-forwarded-proto") ?? (host.startsWith("127.") || host.startsWith("localhost") ? "http" : "https");
  return `${proto}://${host}`;
}


export async function bookingByToken(token: string): Promise<PublicBooking> {
  if (!/^[A-Za-z0-9_.-]{20,2000}$/.test(token)) notFound();
  return orNotFound(publicApi().GET("/api/v1/public/bookings/{token}", { params: { path: { token } } }));
}
