import { expect, test } from "@playwright/test";
import { call, createProperty, expectAccessible, isoDay, login, shot, signupApi } from "./helpers";

test("the calendar draws open requests, overlays rates and moves a stay to another property", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Rows Agency");
  const a = await createProperty(request, admin, "Haus A");
  const b = await createProperty(request, admin, "Haus B");
  await call(request, admin, "POST", `/api/v1/properties/${a.id}/rate-plans`, { name: "Standard", base_price_minor: 9000, default_min_stay: 2 });
  const guest = { last_name: "Wanderer", email: "wanderer@example.com" };
  const stay = await call(request, admin, "POST", "/api/v1/bookings", { property_id: a.id, check_in: isoDay(3), check_out: isoDay(5), guest });
  const asked = await call(request, admin, "POST", "/api/v1/bookings", { property_id: a.id, check_in: isoDay(8), check_out: isoDay(10), status: "requested", guest: { last_name: "Frage", email: "frage@example.com" } });

  await login(page, admin.email);
  const rowA = page.locator(`[data-testid="calendar-row"][data-property="${a.id}"]`);
  const rowB = page.locator(`[data-testid="calendar-row"][data-property="${b.id}"]`);
  // An open request holds no nights, but it is on the calendar (dashed), and opens the booking.
  const req = rowA.locator(`[data-testid="calendar-request"][data-booking="${asked.id}"]`);
  await expect(req).toHaveAttribute("data-start", isoDay(8));
  await expect(req).toHaveAttribute("data-end", isoDay(10));
  await expect(req).toContainText("Frage");

  // Rates overlay: the night's price and minimum stay from the API.
  await page.getByRole("switch", { name: "Rates and minimum stay" }).check();
  const night = rowA.locator(`button[data-date="${isoDay(12)}"]`);
  await expect(night).toHaveAttribute("data-price", "9000");
  await expect(night).toHaveAttribute("data-min-stay", "2");
  await expect(night).toHaveAttribute("aria-label", /€90\.00, minimum 2 nights/);
  await shot(page, info, "request-and-rates");
  await expectAccessible(page, "calendar with the rates overlay");

  // The bookings list answers slowly from here on, so the calendar's days come back first after
  // a move: a second move of the same bar must use the saved booking, not wait for the list.
  const slowList = /\/api\/v1\/bookings\?/;
  await page.route(slowList, async (route) => {
    await new Promise((done) => setTimeout(done, 3000));
    await route.continue().catch(() => undefined);
  });

  // Drag the stay down onto Haus B's row: it moves there with the same dates.
  const bar = page.locator(`[data-testid="calendar-bar"][data-booking="${stay.id}"]`);
  const box = (await bar.boundingBox())!;
  const dy = (await rowB.boundingBox())!.y - (await rowA.boundingBox())!.y;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2 + dy, { steps: 8 });
  await shot(page, info, "dragging-to-another-property");
  await page.mouse.up();
  const moved = rowB.locator(`[data-testid="calendar-bar"][data-booking="${stay.id}"]`);
  await expect(moved).toHaveAttribute("data-start", isoDay(3));
  await expect(rowA.locator(`[data-testid="calendar-bar"][data-booking="${stay.id}"]`)).toHaveCount(0);
  await shot(page, info, "moved-to-another-property");
  // By keyboard: Alt+ArrowUp moves it back to the property above.
  await moved.focus();
  await page.keyboard.press("Alt+ArrowUp");
  await expect(rowA.locator(`[data-testid="calendar-bar"][data-booking="${stay.id}"]`)).toHaveAttribute("data-start", isoDay(3));
  await page.unroute(slowList);

  await req.click();
  await page.waitForURL(`**/bookings/${asked.id}`);
  await expect(page.getByRole("button", { name: "Confirm" })).toBeVisible();
});
