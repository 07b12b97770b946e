import { expect, test } from "@playwright/test";
import { call, createProperty, isoDay, login, usDate, shot, signupApi } from "./helpers";

test("the calendar works by keyboard: select nights, open the dialog, move a stay", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Keyboard Agency");
  const property = await createProperty(request, admin, "Haus Tastatur");
  const booking = await call(request, admin, "POST", "/api/v1/bookings", {
    property_id: property.id, check_in: isoDay(10), check_out: isoDay(12), guest: { last_name: "Taste", email: "taste@example.com" },
  });
  await login(page, admin.email);

  // The first night of the window (today - 3) → arrow to today + 2, Shift+arrow to today + 4.
  const row = page.locator(`[data-testid="calendar-row"][data-property="${property.id}"]`);
  await row.locator(`button[data-date="${isoDay(-3)}"]`).focus();
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight");
  await expect(row.locator(`button[data-date="${isoDay(2)}"]`)).toBeFocused();
  await page.keyboard.press("Shift+ArrowRight");
  await page.keyboard.press("Shift+ArrowRight");
  await expect(row.locator(`button[data-date="${isoDay(4)}"]`)).toHaveAttribute("aria-pressed", "true");
  await shot(page, info, "selected-by-keyboard");
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog");
  await expect(dialog.getByLabel(/arrival/i)).toHaveValue(usDate(isoDay(2)));
  await expect(dialog.getByLabel(/departure/i)).toHaveValue(usDate(isoDay(5)));
  await page.keyboard.press("Escape");
  await expect(dialog).toBeHidden();

  // A stay moves a night later with Alt+ArrowRight.
  const bar = page.locator(`[data-testid="calendar-bar"][data-booking="${booking.id}"]`);
  await bar.focus();
  await page.keyboard.press("Alt+ArrowRight");
  await expect(bar).toHaveAttribute("data-start", isoDay(11));
  await shot(page, info, "moved-by-keyboard");
});
