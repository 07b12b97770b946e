// The committed client is what the API's current OpenAPI document generates (no diff).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

it("regenerating the API client gives no diff", () => {
  const script = fileURLToPath(new URL("./gen-api.mjs", import.meta.url));
  const out = execFileSync(process.execPath, [script, "--check"], { encoding: "utf8", stdio: "pipe" });
  expect(out).toContain("in step");
});
