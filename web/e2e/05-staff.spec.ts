import { expect, test } from "@playwright/test";
import { addMember, call, createProperty, expectAccessible, login, shot, signupApi } from "./helpers";

test("a staff member is not offered rate editing", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Staff Agency");
  const property = await createProperty(request, admin, "Haus Staff");
  await call(request, admin, "POST", `/api/v1/properties/${property.id}/rate-plans`, { name: "Standard", base_price_minor: 9000 });
  const staff = await addMember(request, admin, "staff");

  await login(page, staff.email);
  await page.getByRole("link", { name: "Rates" }).click();
  await expect(page.getByTestId("rates-readonly")).toBeVisible();
  await expect(page.getByTestId("rate-price").first()).toHaveText("€90.00");
  await expect(page.getByTestId("apply-rates")).toHaveCount(0);
  await expect(page.getByTestId("create-policy")).toHaveCount(0);
  await expect(page.getByRole("textbox", { name: /^price/i })).toHaveCount(0);
  await shot(page, info, "rates-read-only");
  await expectAccessible(page, "staff rates");

  // Nor property editing or team management.
  await page.goto(`/properties/${property.id}`);
  await expect(page.getByRole("textbox", { name: /^name/i })).toBeDisabled();
  await expect(page.getByTestId("save-property")).toHaveCount(0);
  await page.getByRole("link", { name: "Team" }).click();
  // The Team page itself, its members loaded: a count of zero alone holds before the navigation
  // has happened, and axe then ran while the router swapped the document's <title>.
  await expect(page).toHaveURL(/\/team$/);
  await expect(page.getByTestId("members-table")).toContainText(staff.email);
  await expect(page.getByTestId("invite")).toHaveCount(0);
  await shot(page, info, "team-read-only");
  await expectAccessible(page, "staff team");
});
