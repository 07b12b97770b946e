// The self-service page's confirmed cancellation: cancelled through the API, back to the page.
import type { NextRequest } from "next/server";
import { cancelCode } from "@/site/problems";
import { apiBase } from "@/site/server";

export const dynamic = "force-dynamic";

export async function POST(req: NextRequest, { params }: { params: Promise<{ agency: string; token: string }> }): Promise<Response> {
  const { agency, token } = await params;
  if (!/^[a-z0-9-]{1,80}$/.test(agency) || !/^[A-Za-z0-9_.-]{20,2000}$/.test(token)) return new Response(null, { status: 404 });
  const back = new URL(`/${agency}/manage/${token}`, req.nextUrl);
  const res = await fetch(`${apiBase()}/api/v1/public/bookings/${token}/cancel`, { method: "POST", cache: "no-store" }).catch(() => null);
  if (!res?.ok) {
    back.searchParams.set("error", cancelCode(res ? res.status : null));
  }
  return Response.redirect(back, 303);
}
