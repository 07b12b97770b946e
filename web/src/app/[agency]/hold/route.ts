// "Book": the property page's form posts here; the dates are held through the API and the guest
// continues to checkout (or back to the property with a code the page words in the guest's
// language, see site/problems). No JavaScript needed.
import type { NextRequest } from "next/server";
import { holdCode } from "@/site/problems";
import { apiBase } from "@/site/server";

export const dynamic = "force-dynamic";

export async function POST(req: NextRequest, { params }: { params: Promise<{ agency: string }> }): Promise<Response> {
  const { agency } = await params;
  if (!/^[a-z0-9-]{1,80}$/.test(agency)) return new Response(null, { status: 404 });
  const form = await req.formData();
  const field = (k: string) => String(form.get(k) ?? "");
  const stay = { check_in: field("check_in"), check_out: field("check_out"), adults: field("adults") || "1" };
  const propertyId = field("property_id");
  const back = new URL(`/${agency}/properties/${encodeURIComponent(propertyId)}`, req.nextUrl);
  const res = await fetch(`${apiBase()}/api/v1/public/${agency}/holds`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(req.headers.get("x-forwarded-for") ? { "x-forwarded-for": req.headers.get("x-forwarded-for")! } : {}) },
    body: JSON.stringify({ property_id: propertyId, ...stay, adults: Number(stay.adults), website: field("website") }),
    cache: "no-store",
  }).catch(() => null);
  const body = res ? await res.json().catch(() => ({})) : {};
  if (!res || res.status !== 201) {
    for (const [k, v] of Object.entries(stay)) back.searchParams.set(k, v);
    back.searchParams.set("error", holdCode(res ? res.status : null, body));
    return Response.redirect(back, 303);
  }
  const next = new URL(`/${agency}/checkout`, req.nextUrl);
  next.searchParams.set("hold", body.hold_token);
  next.searchParams.set("expires", body.expires_at);
  next.searchParams.set("property", propertyId);
  for (const [k, v] of Object.entries(stay)) next.searchParams.set(k, v);
  return Response.redirect(next, 303);
}
