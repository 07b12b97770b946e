import { expect, test } from "@playwright/test";
import { call, createProperty, isoDay, login, shot, signupApi } from "./helpers";

test("a drag onto booked nights is refused with the API's message and the bar returns", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Drag Agency");
  const property = await createProperty(request, admin, "Villa Sonne");
  const guest = { last_name: "Weber", email: "weber@example.com" };
  const first = await call(request, admin, "POST", "/api/v1/bookings", { property_id: property.id, check_in: isoDay(3), check_out: isoDay(5), guest });
  await call(request, admin, "POST", "/api/v1/bookings", { property_id: property.id, check_in: isoDay(7), check_out: isoDay(10), guest: { ...guest, last_name: "Klein" } });

  await login(page, admin.email);
  const bar = page.locator(`[data-testid="calendar-bar"][data-booking="${first.id}"]`);
  await expect(bar).toHaveAttribute("data-start", isoDay(3));
  await shot(page, info, "before");
  const box = (await bar.boundingBox())!;
  const before = box.x;
  // Move by five nights: onto the second stay.
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 5 * 40, box.y + box.height / 2, { steps: 10 });
  await shot(page, info, "dragging");
  await page.mouse.up();

  const problem = page.getByTestId("calendar-problem");
  await expect(problem).toBeVisible();
  await expect(problem).toContainText(/taken|overlap|occupied|conflict|clash/i);
  await expect(bar).toHaveAttribute("data-start", isoDay(3));
  await expect.poll(async () => (await bar.boundingBox())?.x).toBeCloseTo(before, 0);
  await shot(page, info, "refused");

  // A free move is accepted (the server decides both ways).
  const box2 = (await bar.boundingBox())!;
  await page.mouse.move(box2.x + box2.width / 2, box2.y + box2.height / 2);
  await page.mouse.down();
  await page.mouse.move(box2.x + box2.width / 2 + 40, box2.y + box2.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect(bar).toHaveAttribute("data-start", isoDay(4));
  await shot(page, info, "moved");
});
