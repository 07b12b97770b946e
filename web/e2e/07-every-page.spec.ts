import { expect, test } from "@playwright/test";
import { call, createProperty, expectAccessible, isoDay, login, shot, signupApi } from "./helpers";

test("every page passes axe-core with no serious or critical violation", async ({ page, request }, info) => {
  const admin = await signupApi(request, "A11y Agency");
  const property = await createProperty(request, admin, "Haus Barrierefrei");
  await call(request, admin, "POST", `/api/v1/properties/${property.id}/rate-plans`, { name: "Standard", base_price_minor: 10000 });
  await call(request, admin, "POST", "/api/v1/bookings", { property_id: property.id, check_in: isoDay(2), check_out: isoDay(4), guest: { last_name: "Axe", email: "axe@example.com" } });
  await call(request, admin, "POST", "/api/v1/blocks", { property_id: property.id, start: isoDay(6), end: isoDay(8), kind: "maintenance" });

  await page.goto("/login");
  await expectAccessible(page, "login");
  await shot(page, info, "login");
  await login(page, admin.email);
  for (const [path, testId] of [
    ["/calendar", "calendar-grid"],
    ["/bookings", "bookings-table"],
    ["/properties", "properties-table"],
    [`/properties/${property.id}`, "save-property"],
    [`/rates?property=${property.id}`, "rates-grid"],
    ["/guests", null],
    ["/team", "members-table"],
    [`/channels?property=${property.id}`, null],
    ["/payments", "payments-table"],
    ["/channel-manager", "conflict-inbox"],
  ] as const) {
    await page.goto(path);
    if (testId) await expect(page.getByTestId(testId)).toBeVisible();
    else await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    await shot(page, info, path.split("?")[0]!.replace(/\//g, "_").replace(/^_/, "") || "root");
    await expectAccessible(page, path);
  }
});
