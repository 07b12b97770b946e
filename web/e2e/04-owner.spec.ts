import { expect, test } from "@playwright/test";
import { addMember, call, createProperty, expectAccessible, isoDay, login, shot, signupApi } from "./helpers";

test("an owner sees only their property, and no guest e-mail or phone", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Owner Agency");
  const owner = await addMember(request, admin, "owner");
  const mine = await createProperty(request, admin, "Owner's Cottage", { owner_user_id: owner.userId });
  const other = await createProperty(request, admin, "Someone Else's Flat");
  const email = "private.guest@example.com";
  const phone = "+49 170 1234567";
  const booking = await call(request, admin, "POST", "/api/v1/bookings", {
    property_id: mine.id, check_in: isoDay(4), check_out: isoDay(6), guest: { last_name: "Privat", email, phone },
  });
  await call(request, admin, "POST", "/api/v1/bookings", { property_id: other.id, check_in: isoDay(4), check_out: isoDay(6), guest: { last_name: "Andere", email: "x@example.com" } });

  await login(page, owner.email);
  await expect(page.getByTestId("calendar-row")).toHaveCount(1);
  await expect(page.getByTestId("calendar-row")).toContainText("Owner's Cottage");
  await expect(page.getByRole("navigation").getByRole("link")).toHaveText(["Calendar", "Bookings", "Properties"]);
  await shot(page, info, "calendar");
  await expectAccessible(page, "owner calendar");

  await page.getByRole("link", { name: "Bookings" }).click();
  await expect(page.getByTestId("booking-row")).toHaveCount(1);
  await page.goto(`/bookings/${booking.id}`);
  await expect(page.getByTestId("guest-name")).toHaveText("Privat");
  await expect(page.getByTestId("contact-hidden")).toBeVisible();
  const text = await page.locator("body").innerText();
  expect(text).not.toContain(email);
  expect(text).not.toContain(phone);
  // No status action that an owner may not take.
  await expect(page.getByRole("button", { name: "Cancel booking" })).toHaveCount(0);
  await shot(page, info, "booking-without-contact");
  await expectAccessible(page, "owner booking");
});
