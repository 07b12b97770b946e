import { expect, test } from "@playwright/test";
import { call, createProperty, expectAccessible, login, shot, signupApi } from "./helpers";

test("German and English both render, with dates and money per locale", async ({ page, request, context }, info) => {
  const admin = await signupApi(request, "Locale Agency");
  const property = await createProperty(request, admin, "Chalet Alpenblick");
  await call(request, admin, "POST", `/api/v1/properties/${property.id}/rate-plans`, { name: "Standard", base_price_minor: 123456 });
  const booking = await call(request, admin, "POST", "/api/v1/bookings", {
    property_id: property.id, check_in: "2027-12-24", check_out: "2027-12-26", guest: { last_name: "Nikolaus", email: "n@example.com" },
  });

  await login(page, admin.email);
  await page.goto(`/bookings/${booking.id}`);
  await expect(page.getByTestId("booking-dates")).toHaveText("Friday, December 24, 2027 – Sunday, December 26, 2027");
  await expect(page.getByTestId("booking-total")).toContainText("€");
  const totalEn = await page.getByTestId("booking-total").innerText();
  expect(totalEn).toMatch(/^€[\d,]+\.\d\d$/);
  await page.getByRole("button", { name: "Change dates" }).click();
  await expect(page.getByRole("dialog").getByRole("textbox", { name: "Arrival" })).toHaveValue("12/24/2027");
  await page.keyboard.press("Escape");
  await shot(page, info, "en");

  await page.locator("label").filter({ hasText: /^DE$/ }).click();
  await expect(page.getByRole("navigation").getByRole("link", { name: "Buchungen" })).toBeVisible();
  await expect(page.getByTestId("booking-dates")).toHaveText("Freitag, 24. Dezember 2027 – Sonntag, 26. Dezember 2027");
  const totalDe = (await page.getByTestId("booking-total").innerText()).replace(/\u00a0/g, " ");
  expect(totalDe).toMatch(/^[\d.]+,\d\d €$/);
  expect(totalDe.replace(/[^\d]/g, "")).toBe(totalEn.replace(/[^\d]/g, ""));
  await expect(page.getByRole("heading", { level: 1 })).toContainText("Buchung");
  await shot(page, info, "de");
  await expectAccessible(page, "booking detail (de)");
  // Date inputs read and show dates the German way, never the browser's mm/dd/yyyy.
  await page.getByRole("button", { name: "Daten ändern" }).click();
  const arrival = page.getByRole("dialog").getByRole("textbox", { name: "Anreise" });
  await expect(arrival).toHaveValue("24.12.2027");
  await page.keyboard.press("Escape");
  await page.getByRole("navigation").getByRole("link", { name: "Buchungen" }).click();
  const fromInput = page.getByRole("textbox", { name: "Von" });
  await expect(fromInput).toHaveAttribute("placeholder", "TT.MM.JJJJ");
  await fromInput.fill("25.12.2027");
  await expect(page.getByTestId("bookings-count")).toHaveText("1 Buchung");
  await fromInput.fill("26.12.2027"); // the stay is [24, 26): it has left by then
  await expect(page.getByTestId("bookings-count")).toHaveText("Keine Buchungen");
  await shot(page, info, "date-filter-de");

  await page.getByRole("navigation").getByRole("link", { name: "Kalender" }).click();
  await expect(page.getByTestId("calendar-grid")).toBeVisible();
  await expect(page.getByRole("button", { name: "Heute" })).toBeVisible();
  await shot(page, info, "calendar-de");
  await context.clearCookies();
});
