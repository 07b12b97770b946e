import { expect, test } from "@playwright/test";
import { call, createProperty, expectAccessible, login, shot, signupApi } from "./helpers";

test("cancellation policies are edited and deleted (one in use is refused with the API's words)", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Policy Agency");
  const property = await createProperty(request, admin, "Haus Regel");
  const flex = await call(request, admin, "POST", "/api/v1/cancellation-policies", { name: "Flex", rules: [{ days_before: 14, refund_percent: "100" }] });
  await call(request, admin, "POST", "/api/v1/cancellation-policies", { name: "Unused", rules: [{ days_before: 0, refund_percent: "0" }] });
  await call(request, admin, "PUT", `/api/v1/properties/${property.id}/pricing`, { fee_ids: [], cancellation_policy_id: flex.id });
  await login(page, admin.email);
  await page.goto(`/rates?property=${property.id}`);

  const policies = page.getByTestId("policies");
  await expect(policies.getByTestId("policy-row")).toHaveCount(2);
  await policies.getByRole("button", { name: "Edit Flex" }).click();
  const form = policies.getByTestId("policy-form");
  await form.getByRole("textbox", { name: "Policy name" }).fill("Moderat");
  await form.getByRole("button", { name: "Add a rule" }).click();
  await form.getByRole("textbox", { name: "Days before arrival" }).nth(1).fill("3");
  await form.getByRole("textbox", { name: "Refund %" }).nth(1).fill("50");
  await expectAccessible(page, "policy editor");
  await form.getByTestId("save-policy").click();
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId("policy-current")).toContainText("Moderat");
  await expect(policies.getByTestId("policy-row").filter({ hasText: "Moderat" })).toContainText("50 % until 3 d");

  page.on("dialog", (d) => void d.accept());
  await policies.getByRole("button", { name: "Delete Moderat" }).click();
  await expect(policies.getByTestId("policy-problem")).toContainText("The cancellation policy is in use; unassign it first.");
  await policies.getByRole("button", { name: "Delete Unused" }).click();
  await expect(policies.getByTestId("policy-row")).toHaveCount(1);
  await shot(page, info, "policies");
});

test("a rate plan's weekday prices and long-stay discounts are edited", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Weekday Agency");
  const property = await createProperty(request, admin, "Haus Woche");
  const plan = await call(request, admin, "POST", `/api/v1/properties/${property.id}/rate-plans`, { name: "Standard", base_price_minor: 10000 });
  await login(page, admin.email);
  await page.goto(`/rates?property=${property.id}`);
  await page.getByRole("tab", { name: "Plans and seasons" }).click();

  const card = page.getByTestId("plan-prices");
  await card.getByRole("textbox", { name: "Friday" }).fill("zwölf");
  await card.getByTestId("save-plan-prices").click();
  await expect(card.getByText("not an amount")).toBeVisible();
  await card.getByRole("textbox", { name: "Friday" }).fill("120");
  await card.getByRole("textbox", { name: "Saturday" }).fill("130,50");
  await card.getByRole("button", { name: "Add a discount" }).click();
  await card.getByRole("textbox", { name: "Discount %" }).fill("15");
  await card.getByTestId("save-plan-prices").click();
  await expect(card.getByRole("status")).toHaveText("Saved.");
  const stored = await call(request, admin, "GET", `/api/v1/rate-plans/${plan.id}`);
  expect(stored.weekday_prices).toEqual({ "4": 12000, "5": 13050 });
  expect(stored.los_discounts).toEqual([{ min_nights: 7, percent: "15" }]);
  await page.reload();
  await page.getByRole("tab", { name: "Plans and seasons" }).click();
  await expect(card.getByRole("textbox", { name: "Friday" })).toHaveValue("120.00");
  await expect(card.getByTestId("los-row")).toHaveCount(1);
  await shot(page, info, "plan-weekday-prices");
});
