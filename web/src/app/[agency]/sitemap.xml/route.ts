// The agency's sitemap: its home page and every listed property (the API lists only those).
import { apiBase, siteOrigin } from "@/site/server";

export const dynamic = "force-dynamic";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export async function GET(_: Request, { params }: { params: Promise<{ agency: string }> }): Promise<Response> {
  const { agency } = await params;
  if (!/^[a-z0-9-]{1,80}$/.test(agency)) return new Response(null, { status: 404 });
  const res = await fetch(`${apiBase()}/api/v1/public/${agency}/properties`, { cache: "no-store" });
  if (!res.ok) return new Response(null, { status: res.status === 404 ? 404 : 502 });
  const props = (await res.json()) as { id: string }[];
  const origin = await siteOrigin();
  const urls = [`${origin}/${agency}`, ...props.map((p) => `${origin}/${agency}/properties/${p.id}`)];
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n` +
    urls.map((u) => `  <url><loc>${esc(u)}</loc></url>`).join("\n") +
    `\n</urlset>\n`;
  return new Response(body, { headers: { "content-type": "application/xml; charset=utf-8", "cache-control": "public, max-age=600" } });
}
