// Measures the guests' booking site in Chromium under a mid-range phone profile (run by
// bench/web_guest_site.py, which seeds the agency): for the search page and the property page,
// the HTML and JavaScript sent (raw and gzipped) and the time to first contentful paint with the
// network throttled through CDP (150 ms RTT, 1.6 Mbit/s down, 750 kbit/s up: "Fast 3G") and the
// CPU slowed 4×; cold (empty cache) and warm (median of 3).
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import chromiumConfig from "../e2e/chromium.json" with { type: "json" };

const CHROMIUM = process.env.CHROMIUM_PATH ?? chromiumConfig.path;
const { WEB_URL, PAGES } = process.env;
const pages = JSON.parse(PAGES);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: chromiumConfig.args });
const context = await browser.newContext({
  viewport: { width: 412, height: 915 },
  deviceScaleFactor: 2.6,
  isMobile: true,
  hasTouch: true,
  userAgent: "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120 Mobile Safari/537.36",
});
const page = await context.newPage();
const cdp = await context.newCDPSession(page);
await cdp.send("Network.enable");
await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 150, downloadThroughput: (1.6 * 1024 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 });
await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });

async function load(url) {
  const sizes = { html: 0, htmlGzip: 0, js: 0, jsGzip: 0, scripts: 0 };
  const onResponse = async (res) => {
    const type = res.request().resourceType();
    if (type !== "script" && type !== "document") return;
    try {
      const body = await res.body();
      if (type === "document") {
        sizes.html += body.length;
        sizes.htmlGzip += gzipSync(body).length;
      } else {
        sizes.js += body.length;
        sizes.jsGzip += gzipSync(body).length;
        sizes.scripts += 1;
      }
    } catch {
      /* a redirect or an aborted request */
    }
  };
  page.on("response", onResponse);
  await page.goto(url, { waitUntil: "load" });
  const fcp = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const seen = performance.getEntriesByName("first-contentful-paint")[0];
        if (seen) return resolve(seen.startTime);
        new PerformanceObserver((list) => resolve(list.getEntries()[0].startTime)).observe({ type: "paint", buffered: true });
      }),
  );
  page.off("response", onResponse);
  return { fcp, ...sizes };
}

const out = {};
for (const [name, path] of Object.entries(pages)) {
  await cdp.send("Network.clearBrowserCache");
  const cold = await load(`${WEB_URL}${path}`);
  const warm = [];
  for (let i = 0; i < 3; i++) warm.push((await load(`${WEB_URL}${path}`)).fcp);
  out[name] = { cold, warm: warm.sort((a, b) => a - b)[1] };
}
await browser.close();
console.log(JSON.stringify(out));
