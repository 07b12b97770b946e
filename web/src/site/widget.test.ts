// The agency widget stays small: under 30 kB gzipped (it is one hand-written file).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

describe("widget.js", () => {
  const src = readFileSync(join(__dirname, "..", "..", "public", "widget.js"));
  it("is under 30 kB gzipped", () => {
    expect(gzipSync(src).length).toBeLessThan(30 * 1024);
  });
  it("draws into a shadow root and asks the API through the booking site", () => {
    const text = src.toString();
    expect(text).toContain("attachShadow");
    expect(text).toContain('"/api/v1/public/"');
  });
});
