import { expect, test } from "@playwright/test";
import { call, createProperty, expectAccessible, isoDay, login, shot, signupApi } from "./helpers";

test("the bookings list filters by guest on the server; a guest's page shows their stays, edits and erases", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Guest Agency");
  const property = await createProperty(request, admin, "Haus Gast");
  const lind = { first_name: "Astrid", last_name: "Lindqvist", email: "astrid@example.se" };
  await call(request, admin, "POST", "/api/v1/bookings", { property_id: property.id, check_in: isoDay(3), check_out: isoDay(5), guest: lind });
  const second = await call(request, admin, "POST", "/api/v1/bookings", { property_id: property.id, check_in: isoDay(9), check_out: isoDay(12), guest: lind });
  await call(request, admin, "POST", "/api/v1/bookings", { property_id: property.id, check_in: isoDay(6), check_out: isoDay(8), guest: { last_name: "Berger", email: "berger@example.at" } });

  await login(page, admin.email);
  await page.getByRole("link", { name: "Bookings" }).click();
  await expect(page.getByTestId("bookings-count")).toHaveText("3 bookings");
  const filter = page.getByTestId("guest-filter");
  await filter.fill("lindq");
  await expect(page.getByTestId("bookings-count")).toHaveText("2 bookings");
  await filter.fill("example.at");
  await expect(page.getByTestId("bookings-count")).toHaveText("1 booking");
  await expect(page.getByTestId("booking-row")).toContainText("Berger");
  await filter.fill(second.reference);
  await expect(page.getByTestId("booking-row")).toContainText("Lindqvist");
  await expect(page.getByTestId("booking-row")).toHaveCount(1);
  await shot(page, info, "filtered-by-guest");

  // From the booking to its guest: both stays, contact details to edit.
  await page.getByTestId("booking-row").getByRole("link").click();
  await page.getByTestId("guest-name").click();
  await expect(page.getByTestId("guest-title")).toHaveText("Astrid Lindqvist");
  await expect(page.getByTestId("guest-stay")).toHaveCount(2);
  await expectAccessible(page, "guest detail");
  await page.getByRole("textbox", { name: "Phone" }).fill("+46 8 123 456");
  await page.getByTestId("save-guest").click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await shot(page, info, "guest-detail");
  await page.reload();
  await expect(page.getByRole("textbox", { name: "Phone" })).toHaveValue("+46 8 123 456");

  // Erasing asks first, then the personal data are gone; the stays remain.
  await page.getByTestId("erase-guest").click();
  await expect(page.getByRole("dialog")).toContainText("cannot be undone");
  await page.getByTestId("confirm-erase").click();
  await expect(page.getByTestId("guest-title")).toHaveText("erased");
  await expect(page.getByRole("textbox", { name: "Phone" })).toHaveValue("");
  await expect(page.getByTestId("guest-stay")).toHaveCount(2);
  await shot(page, info, "guest-erased");
});
