// Custom domains: a mapped host serves its agency's booking site at the root.
import { NextRequest } from "next/server";
import { afterEach, describe, expect, it } from "vitest";
import { proxy } from "./proxy";

function run(url: string, host: string) {
  return proxy(new NextRequest(url, { headers: { host } }));
}

describe("SITE_DOMAINS", () => {
  afterEach(() => {
    delete process.env.SITE_DOMAINS;
  });
  it("rewrites a mapped host's paths to the agency's", () => {
    process.env.SITE_DOMAINS = "book.sylt.example=sylt-stays, other.example=other";
    expect(run("http://book.sylt.example/", "book.sylt.example").headers.get("x-middleware-rewrite")).toBe("http://book.sylt.example/sylt-stays");
    expect(run("http://book.sylt.example/properties/1", "book.sylt.example").headers.get("x-middleware-rewrite")).toBe("http://book.sylt.example/sylt-stays/properties/1");
  });
  it("leaves paths already under the agency, the API and other hosts alone", () => {
    process.env.SITE_DOMAINS = "book.sylt.example=sylt-stays";
    expect(run("http://book.sylt.example/sylt-stays/properties/1", "book.sylt.example").headers.get("x-middleware-rewrite")).toBeNull();
    expect(run("http://book.sylt.example/api/v1/public/x", "book.sylt.example").headers.get("x-middleware-rewrite")).toBeNull();
    expect(run("http://127.0.0.1:3000/calendar", "127.0.0.1:3000").headers.get("x-middleware-rewrite")).toBeNull();
  });
  it("ignores malformed entries", () => {
    process.env.SITE_DOMAINS = "bad,=x,host.example=Not A Slug";
    expect(run("http://host.example/", "host.example").headers.get("x-middleware-rewrite")).toBeNull();
  });
});
