// The browser reaches the API through this origin: each /api/v1 request is passed on unchanged
// to API_URL (read at run time) and its answer streamed back, the SSE stream included.
import type { NextRequest } from "next/server";

export const dynamic = "force-dynamic";

const HOP_BY_HOP = ["host", "connection", "keep-alive", "transfer-encoding", "upgrade", "content-length", "accept-encoding"];

async function pass(req: NextRequest): Promise<Response> {
  const base = process.env.API_URL ?? "http://127.0.0.1:8000";
  const url = new URL(req.nextUrl.pathname + req.nextUrl.search, base);
  const headers = new Headers(req.headers);
  for (const h of HOP_BY_HOP) headers.delete(h);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method,
      headers,
      body: hasBody ? req.body : undefined,
      redirect: "manual",
      signal: req.signal,
      cache: "no-store",
      // Required by undici to stream a request body.
      ...(hasBody ? { duplex: "half" } : {}),
    } as RequestInit);
  } catch {
    return Response.json(
      { type: "/problems/api-unreachable", title: "API unreachable", status: 502, detail: "The API did not answer. Try again in a moment." },
      { status: 502, headers: { "content-type": "application/problem+json" } },
    );
  }
  const out = new Headers(res.headers);
  for (const h of ["content-encoding", "content-length", "transfer-encoding", "connection"]) out.delete(h);
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
}

// OPTIONS: the agency widget on other sites asks first (the API answers per public_origins).
export { pass as GET, pass as POST, pass as PUT, pass as PATCH, pass as DELETE, pass as OPTIONS };
