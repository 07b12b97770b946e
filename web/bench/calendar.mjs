// Measures the calendar in Chromium (run by bench/web_calendar.py, which seeds the data):
// time from navigation to all bars drawn, frame times while scrolling, JS sent (gzipped).
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import chromiumConfig from "../e2e/chromium.json" with { type: "json" };

const CHROMIUM = process.env.CHROMIUM_PATH ?? chromiumConfig.path;
const CHROMIUM_ARGS = chromiumConfig.args;

const { WEB_URL, EMAIL, PASSWORD } = process.env;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
const page = await context.newPage();

await page.goto(`${WEB_URL}/login`);
await page.getByRole("textbox", { name: /e-mail/i }).fill(EMAIL);
await page.getByRole("textbox", { name: /password/i }).fill(PASSWORD);
await page.getByRole("button", { name: /sign in/i }).click();
await page.waitForURL("**/calendar");
await page.waitForSelector('[data-ready="1"]');

async function load() {
  const scripts = new Map();
  const onResponse = async (res) => {
    if (res.request().resourceType() === "script") {
      try { scripts.set(res.url(), gzipSync(await res.body()).length); } catch { /* redirect or aborted */ }
    }
  };
  page.on("response", onResponse);
  await page.goto(`${WEB_URL}/calendar`, { waitUntil: "commit" });
  // All bars of the rows on screen, with their colours (bookings loaded), painted.
  await page.waitForSelector('[data-ready="1"] [data-testid="calendar-bar"][data-source]', { timeout: 60_000 });
  const ms = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
  const bars = await page.locator('[data-testid="calendar-bar"]').count();
  const rows = await page.locator('[data-testid="calendar-row"]').count();
  page.off("response", onResponse);
  return { ms, bars, rows, jsGzipBytes: [...scripts.values()].reduce((a, b) => a + b, 0), scripts: scripts.size };
}

// A cold load (nothing cached) and warm ones (scripts from the browser cache).
const cold = await load();
const warm = [];
for (let i = 0; i < 3; i++) warm.push((await load()).ms);

async function scroll(axis, distance, frames) {
  return page.evaluate(({ axis, distance, frames }) => new Promise((resolve) => {
    const el = document.querySelector('[data-testid="calendar-grid"]');
    const times = [];
    let last = performance.now();
    let n = 0;
    const step = () => {
      const now = performance.now();
      if (n > 0) times.push(now - last);
      last = now;
      if (n++ >= frames) return resolve(times);
      if (axis === "y") el.scrollTop = (distance * n) / frames; else el.scrollLeft = (distance * n) / frames;
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }), { axis, distance, frames });
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { frames: s.length, p50: q(0.5), p95: q(0.95), max: s[s.length - 1] };
};
const rowsPx = await page.evaluate(() => document.querySelector('[data-testid="calendar-grid"]').scrollHeight);
const vertical = stats(await scroll("y", rowsPx, 180));
await page.evaluate(() => { document.querySelector('[data-testid="calendar-grid"]').scrollTop = 0; });
const horizontal = stats(await scroll("x", 31 * 40, 90));
console.log(JSON.stringify({ cold, warm, vertical, horizontal }));
await browser.close();
