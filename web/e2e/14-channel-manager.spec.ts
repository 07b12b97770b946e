import { expect, test } from "@playwright/test";
import { expectAccessible, login, shot, signupApi } from "./helpers";

test("Channel Manager: no connection yet, and a refused connection shows the API's words", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Channel Agency");
  await login(page, admin.email);
  await page.getByRole("navigation").getByRole("link", { name: "Channel Manager" }).click();
  await expect(page.getByTestId("no-connections")).toBeVisible();
  await expect(page.getByTestId("conflict-inbox")).toContainText("No conflicts.");
  await expectAccessible(page, "channel manager");
  // Booking.com without its machine credentials: the API refuses, and the page says why.
  await page.getByRole("combobox", { name: "Platform" }).click();
  await page.getByRole("option", { name: "booking_com" }).click();
  await page.getByRole("button", { name: "Connect" }).click();
  await expect(page.getByTestId("problem")).toBeVisible();
  await expect(page.getByTestId("no-connections")).toBeVisible();
  await shot(page, info, "refused-connection");
});
