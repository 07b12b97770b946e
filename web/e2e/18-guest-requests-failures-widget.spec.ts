// The guests' booking site, continued: a request to book approved by staff in the team app
// (the guest gets the approval e-mail); a declined card and a hold that runs out mid-checkout
// (the guest is told, nothing is charged or booked); the agency widget on another origin.
import { expect, test, type Page } from "@playwright/test";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { API, call, expectAccessible, isoDay, login, shot } from "./helpers";
import { guestAgency, mailTo, SANDBOX } from "./guest";

async function details(page: Page, email: string, payment: RegExp) {
  await expect(page.getByTestId("countdown")).toContainText(/\d+:\d\d/); // the form is live
  await page.getByLabel("First name").fill("Jonas");
  await page.getByLabel("Last name").fill("Berg");
  await page.getByLabel("E-mail").fill(email);
  await page.getByRole("radio", { name: payment }).check();
  await page.getByLabel(/I accept/).check();
}

test("a request to book is approved by staff and the guest is told", async ({ page, request }, info) => {
  const { slug, property, admin } = await guestAgency(request, "Request Stays", { instantBook: false });
  const [checkIn, checkOut] = [isoDay(50), isoDay(53)];
  await page.goto(`/${slug}/properties/${property.id}?check_in=${checkIn}&check_out=${checkOut}&adults=2`);
  await page.getByRole("button", { name: "Request to book" }).click();
  const email = `jonas-${Date.now()}@example.com`;
  await details(page, email, /Bank transfer/);
  await page.getByRole("button", { name: "Send request" }).click();
  await expect(page.getByTestId("request-sent")).toBeVisible();
  await expect(page.getByTestId("booking-status")).toHaveText("Requested");
  const reference = await page.getByTestId("reference").innerText();
  await shot(page, info, "request-sent");
  await expectAccessible(page, "request sent");

  const list = await call(request, admin, "GET", `/api/v1/bookings?status=requested`);
  const booking = (list.items ?? list).find((b: { reference: string }) => b.reference === reference);
  await login(page, admin.email);
  await page.goto(`/bookings/${booking.id}`);
  await page.getByRole("button", { name: "Confirm", exact: true }).click();
  await expect(page.getByText("Confirmed").first()).toBeVisible();
  await shot(page, info, "staff-approved");
  // The team app shows the property's booking-site link and the widget tag to paste.
  await page.goto(`/properties/${property.id}`);
  await expect(page.getByTestId("widget-snippet")).toContainText(`data-agency="${slug}" data-property="${property.id}"`);
  await shot(page, info, "widget-snippet");
  await expectAccessible(page, "property with widget snippet");
  const mail = await mailTo(email, /accepted/);
  expect(mail).toContain(reference);
  expect(mail).toMatch(new RegExp(`/${slug}/manage/`));
});

test("a declined card charges nothing and may be retried (3-D Secure); a hold that runs out is told", async ({ page, request }, info) => {
  const { slug, property } = await guestAgency(request, "Failure Stays");
  const [checkIn, checkOut] = [isoDay(70), isoDay(72)];
  await page.goto(`/${slug}/properties/${property.id}?check_in=${checkIn}&check_out=${checkOut}&adults=2`);
  await page.getByRole("button", { name: "Book", exact: true }).click();
  await details(page, `card-${Date.now()}@example.com`, /^Card/);
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await page.getByLabel("Card number").fill("4000 0000 0000 0002");
  await page.getByLabel("Expiry (MM/YY)").fill("12/34");
  await page.getByLabel("CVC").fill("123");
  await page.getByRole("button", { name: /^Pay / }).click();
  await expect(page.getByRole("alert")).toHaveText("Your card was declined. Try another card.");
  await shot(page, info, "card-declined");
  await page.getByRole("link", { name: "Back to the booking site" }).click();
  await expect(page.getByTestId("unpaid")).toBeVisible();
  await expect(page.getByTestId("booking-status")).toHaveText("Held");
  await shot(page, info, "payment-not-completed");
  await expectAccessible(page, "payment not completed");
  const intents = await (await request.get(`${SANDBOX}/stripe/control/events`)).json();
  expect(intents.map((e: { type: string }) => e.type)).not.toContain("payment_intent.succeeded");
  // Another card, with the bank's 3-D Secure step: paid and confirmed.
  await page.getByRole("link", { name: "Try paying again" }).click();
  await page.getByLabel("Card number").fill("4000 0025 0000 3155");
  await page.getByLabel("Expiry (MM/YY)").fill("12/34");
  await page.getByLabel("CVC").fill("123");
  await page.getByRole("button", { name: /^Pay / }).click();
  await expect(page.getByRole("heading", { name: "3-D Secure authentication" })).toBeVisible();
  await shot(page, info, "3-d-secure");
  await page.getByRole("button", { name: "Complete authentication" }).click();
  await expect(page.getByTestId("confirmed")).toBeVisible({ timeout: 20_000 });
  await shot(page, info, "paid-after-3ds");

  // The hold runs out while the guest types (released here, as the expiry job would): told, retry.
  const [in2, out2] = [isoDay(80), isoDay(82)];
  await page.goto(`/${slug}/properties/${property.id}?check_in=${in2}&check_out=${out2}&adults=2`);
  await page.getByRole("button", { name: "Book", exact: true }).click();
  await expect(page.getByTestId("countdown")).toBeVisible();
  const hold = new URL(page.url()).searchParams.get("hold")!;
  const released = await request.delete(`${API}/api/v1/public/${slug}/holds/${hold}`);
  expect(released.status()).toBe(204);
  const email = `late-${Date.now()}@example.com`;
  await details(page, email, /Bank transfer/);
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await expect(page.getByTestId("hold-expired")).toContainText("nothing was charged");
  await expect(page.getByRole("button", { name: "Confirm booking" })).toBeDisabled();
  await shot(page, info, "hold-expired");
  await expectAccessible(page, "hold expired");
  await page.getByRole("button", { name: "Hold the dates again" }).click();
  await expect(page.getByTestId("countdown")).toContainText(/\d+:\d\d/);
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await expect(page.getByTestId("confirmed")).toBeVisible();
  await shot(page, info, "booked-after-retry");
});

test("the widget on another site prices a stay and books through the booking site", async ({ page, request }, info) => {
  const web = info.project.use.baseURL!;
  const server = createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  let html = "";
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const origin = `http://localhost:${(server.address() as AddressInfo).port}`;
  try {
    const { slug, property } = await guestAgency(request, "Widget Stays", { origins: [origin] });
    html = `<!doctype html><html lang="en"><head><title>Ferienhof Nord</title><style>input{background:red}</style></head><body><main><h1>Ferienhof Nord</h1>` +
      `<script src="${web}/widget.js" data-agency="${slug}" data-property="${property.id}" async></script></main></body></html>`;
    const granted = await request.fetch(`${web}/api/v1/public/${slug}/quotes`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(granted.headers()["access-control-allow-origin"], JSON.stringify(granted.headers())).toBe(origin);
    page.on("console", (m) => console.log("widget page:", m.text()));
    await page.goto(origin);
    const widget = page.locator(`[data-pms-widget="${slug}"]`);
    await widget.getByLabel("Check-in").fill(isoDay(90));
    await widget.getByLabel("Check-out").fill(isoDay(93));
    await widget.getByLabel("Check-out").dispatchEvent("change");
    await expect(widget.locator("output")).toHaveText(/Total: €[\d,]+\.\d\d/);
    expect(await widget.getByLabel("Check-in").evaluate((el) => getComputedStyle(el).backgroundColor)).not.toBe("rgb(255, 0, 0)");
    await shot(page, info, "widget");
    await expectAccessible(page, "widget host page");
    // Another origin is not granted CORS.
    const other = await request.fetch(`${web}/api/v1/public/${slug}/quotes`, {
      method: "OPTIONS",
      headers: { origin: "http://evil.example", "access-control-request-method": "POST" },
    });
    expect(other.headers()["access-control-allow-origin"]).toBeUndefined();

    await widget.getByRole("link", { name: "Book" }).click();
    await expect(page.getByTestId("quote-total")).toBeVisible();
    await page.getByRole("button", { name: "Book", exact: true }).click();
    await details(page, `widget-${Date.now()}@example.com`, /Pay on arrival/);
    await page.getByRole("button", { name: "Confirm booking" }).click();
    await expect(page.getByTestId("confirmed")).toBeVisible();
    await shot(page, info, "widget-booked");
  } finally {
    server.close();
  }
});
