import { expect, test } from "@playwright/test";
import { addMember, createProperty, isoDay, login, selectNights, shot, signupApi, unique } from "./helpers";

test("a booking made in one browser appears in another member's calendar within 2 s, without reload", async ({ browser, request }, info) => {
  const admin = await signupApi(request, "Live Agency");
  const property = await createProperty(request, admin, "Loft am Markt");
  const manager = await addMember(request, admin, "manager");

  const a = await browser.newContext();
  const b = await browser.newContext();
  const pageA = await a.newPage();
  const pageB = await b.newPage();
  await login(pageA, admin.email);
  await login(pageB, manager.email);
  await expect(pageB.getByTestId("live-state")).toHaveText(/live/i);
  await expect(pageB.getByTestId("calendar-bar")).toHaveCount(0);
  await shot(pageB, info, "b-before");

  let navigations = 0;
  pageB.on("framenavigated", () => (navigations += 1));
  await selectNights(pageA, property.id, isoDay(5), isoDay(6));
  const dialog = pageA.getByRole("dialog");
  await dialog.getByRole("textbox", { name: /last name/i }).fill("Schmidt");
  await dialog.getByRole("textbox", { name: /e-mail/i }).fill(unique("guest"));
  await dialog.getByTestId("create-stay").click();
  await expect(pageA.locator(`[data-testid="calendar-bar"][data-start="${isoDay(5)}"]`)).toBeVisible();
  const made = Date.now();
  await shot(pageA, info, "a-booked");

  await expect(pageB.locator(`[data-testid="calendar-bar"][data-start="${isoDay(5)}"]`)).toBeVisible({ timeout: 2_000 });
  const seenAfter = Date.now() - made;
  await shot(pageB, info, "b-sees-it");
  expect(navigations).toBe(0);
  info.annotations.push({ type: "latency", description: `${seenAfter} ms` });
  await a.close();
  await b.close();
});
