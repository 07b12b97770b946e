import { defineConfig } from "@playwright/test";
import { CHROMIUM, CHROMIUM_ARGS } from "./e2e/browser";

// Run by tests/e2e/test_web.py against the real API, worker and database it starts
// (WEB_URL: this app, API_URL: the API). Screenshots of each step go to ARTIFACTS_DIR.
export default defineConfig({
  testDir: "./e2e",
  testMatch: /.*\.spec\.ts/,
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  outputDir: process.env.ARTIFACTS_DIR ? `${process.env.ARTIFACTS_DIR}/playwright` : "test-results",
  use: {
    baseURL: process.env.WEB_URL ?? "http://127.0.0.1:3000",
    headless: true,
    viewport: { width: 1366, height: 860 },
    locale: "en-US",
    timezoneId: "UTC",
    screenshot: "only-on-failure",
    trace: "off",
    launchOptions: { executablePath: CHROMIUM, args: CHROMIUM_ARGS },
  },
});
