import { expect, test } from "@playwright/test";
import { API, call, createProperty, expectAccessible, isoDay, login, shot, signupApi } from "./helpers";

test("payments are listed with the booking's; iCal export URLs are rotated and revoked", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Payments Agency");
  const property = await createProperty(request, admin, "Haus Zahlung", { is_listed: true });
  await call(request, admin, "POST", `/api/v1/properties/${property.id}/rate-plans`, { name: "Standard", base_price_minor: 8000 });
  // A guest books on the agency's site and pays by bank transfer: a pending offline payment.
  const { slug } = await call(request, admin, "GET", "/api/v1/agency");
  const hold = await request.post(`${API}/api/v1/public/${slug}/holds`, { data: { property_id: property.id, check_in: isoDay(20), check_out: isoDay(22), adults: 2 }, headers: { "idempotency-key": crypto.randomUUID() } });
  expect(hold.status(), await hold.text()).toBe(201);
  const booked = await request.post(`${API}/api/v1/public/${slug}/bookings`, {
    data: { hold_token: (await hold.json()).hold_token, guest: { email: "zahler@example.com", last_name: "Zahler" }, accepted_terms: true, payment_method: "offline", offline_method: "bank_transfer" },
    headers: { "idempotency-key": crypto.randomUUID() },
  });
  expect(booked.status(), await booked.text()).toBe(201);

  await login(page, admin.email);
  await page.getByRole("navigation").getByRole("link", { name: "Payments" }).click();
  await expect(page.getByTestId("payments-count")).toHaveText("1 payment");
  const row = page.getByTestId("payment-row");
  await expect(row).toContainText("Bank transfer");
  await expect(row).toContainText("Pending");
  await expect(row).toContainText("€160.00");
  await shot(page, info, "payments");
  await expectAccessible(page, "payments");
  await row.getByRole("link").click();
  await expect(page.getByTestId("booking-payments").getByTestId("payment-row")).toContainText("Bank transfer");

  // iCal: a new export URL, rotated (the old one stops working), then revoked.
  await page.goto(`/channels?property=${property.id}`);
  await page.getByRole("button", { name: "New export URL" }).click();
  const url = page.getByTestId("export-url").locator("code");
  await expect(url).toContainText("/ical/");
  const first = await url.innerText();
  await page.getByTestId("export-row").getByRole("button", { name: "Rotate" }).click();
  await expect(url).not.toHaveText(first);
  await expect(page.getByTestId("export-row")).toHaveCount(1);
  const oldPath = new URL(first).pathname;
  expect((await request.get(`${API}${oldPath}`)).status()).toBe(404);
  await shot(page, info, "export-rotated");
  await expectAccessible(page, "channels");
  page.once("dialog", (d) => void d.accept());
  await page.getByTestId("export-row").getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("export-row")).toHaveCount(0);
  await expect(page.getByText("No export URLs yet.")).toBeVisible();
});
