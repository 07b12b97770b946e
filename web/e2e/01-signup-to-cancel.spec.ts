import { expect, test } from "@playwright/test";
import { PASSWORD, expectAccessible, isoDay, selectNights, shot, unique } from "./helpers";

test("sign up, create a property, set rates, book in the calendar, find it in the list, cancel with the refund shown", async ({ page }, info) => {
  const email = unique("founder");
  await page.goto("/signup");
  await expectAccessible(page, "signup");
  await page.getByRole("textbox", { name: /agency name/i }).fill("Seeblick Ferienwohnungen");
  await page.getByRole("textbox", { name: /e-mail/i }).fill(email);
  await page.getByRole("textbox", { name: /password/i }).fill(PASSWORD);
  await shot(page, info, "signup");
  await page.getByRole("button", { name: "Sign up" }).click();

  // Straight to the new property.
  const dialog = page.getByRole("dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByRole("textbox", { name: /^name/i }).fill("Haus am See");
  await dialog.getByRole("textbox", { name: /city/i }).fill("Konstanz");
  await shot(page, info, "new-property");
  await expectAccessible(page, "new property dialog");
  await dialog.getByTestId("save-property").click();

  // Rates: a plan, a bulk price change and a cancellation policy.
  await page.waitForURL(/\/rates\?property=/);
  const propertyId = new URL(page.url()).searchParams.get("property")!;
  await page.getByRole("textbox", { name: /base price/i }).fill("120");
  await page.getByTestId("create-plan").click();
  await expect(page.getByTestId("rate-row").first()).toBeVisible();
  await page.getByLabel(/until/i).fill(isoDay(40));
  await page.getByRole("textbox", { name: /^price/i }).fill("150");
  await page.getByTestId("apply-rates").click();
  await expect(page.getByTestId("rates-applied")).toBeVisible();
  await expect(page.getByTestId("rate-price").first()).toHaveText("€150.00");
  await page.getByTestId("create-policy").click();
  await expect(page.getByTestId("policy-current")).toBeVisible();
  await shot(page, info, "rates");
  await expectAccessible(page, "rates");

  // Calendar: select three free nights and book them.
  await page.getByRole("link", { name: "Calendar" }).click();
  await expect(page.getByTestId("calendar-row")).toHaveCount(1);
  await expectAccessible(page, "calendar");
  const from = isoDay(17);
  await selectNights(page, propertyId, from, isoDay(19));
  const stay = page.getByRole("dialog");
  await expect(stay).toBeVisible();
  await stay.getByRole("textbox", { name: /last name/i }).fill("Müller");
  await stay.getByRole("textbox", { name: /e-mail/i }).fill(unique("guest"));
  await expect(stay.getByTestId("quote-total")).toHaveText("€450.00");
  await shot(page, info, "select-nights");
  await expectAccessible(page, "new stay dialog");
  await stay.getByTestId("create-stay").click();
  await expect(stay).toBeHidden();
  const bar = page.locator(`[data-testid="calendar-bar"][data-start="${from}"]`);
  await expect(bar).toBeVisible();
  await expect(bar).toHaveAttribute("data-end", isoDay(20));
  await shot(page, info, "booked");

  // The list has it.
  await page.getByRole("link", { name: "Bookings" }).click();
  await expect(page.getByTestId("booking-row")).toHaveCount(1);
  await expect(page.getByTestId("booking-row")).toContainText("Müller");
  await shot(page, info, "list");
  await expectAccessible(page, "bookings");

  // Detail and cancel: the policy's refund is shown before confirming.
  await page.getByTestId("booking-row").getByRole("link").click();
  await expect(page.getByTestId("booking-total")).toHaveText("€450.00");
  await expectAccessible(page, "booking detail");
  await page.getByRole("button", { name: "Cancel booking" }).click();
  await expect(page.getByTestId("cancel-refund")).toContainText("€450.00 (100 %)");
  await shot(page, info, "cancel-refund");
  await page.getByTestId("confirm-cancel").click();
  await expect(page.getByTestId("booking-status")).toHaveText(/cancelled/i);
  await expect(page.getByTestId("booking-refund")).toContainText("€450.00");
  await shot(page, info, "cancelled");
});
