// Custom domains: SITE_DOMAINS="book.sylt-stays.de=sylt-stays,…" maps a host to an agency, whose
// booking site is then served at that domain's root (/, /properties/…) as well as at /{agency}.
import { NextResponse, type NextRequest } from "next/server";

function domains(): Map<string, string> {
  const out = new Map<string, string>();
  for (const pair of (process.env.SITE_DOMAINS ?? "").split(",")) {
    const [host, agency] = pair.split("=").map((s) => s.trim().toLowerCase());
    if (host && agency && /^[a-z0-9-]{1,80}$/.test(agency)) out.set(host, agency);
  }
  return out;
}

export function proxy(req: NextRequest): NextResponse {
  const host = (req.headers.get("host") ?? "").toLowerCase();
  const agency = domains().get(host) ?? domains().get(host.split(":")[0] ?? "");
  const path = req.nextUrl.pathname;
  if (!agency || path === `/${agency}` || path.startsWith(`/${agency}/`) || path.startsWith("/api/") || path.startsWith("/_next/")) {
    return NextResponse.next();
  }
  const url = req.nextUrl.clone();
  url.pathname = `/${agency}${path === "/" ? "" : path}`;
  return NextResponse.rewrite(url);
}

export const config = { matcher: ["/((?!_next/|api/|favicon|icon).*)"] };
