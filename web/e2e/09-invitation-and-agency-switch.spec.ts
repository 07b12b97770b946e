import { expect, test } from "@playwright/test";
import { API, PASSWORD, call, createProperty, expectAccessible, shot, signupApi, unique } from "./helpers";

test("accept an invitation, then switch agency: only the chosen agency's data is shown", async ({ page, request }, info) => {
  const first = await signupApi(request, "First Agency");
  const second = await signupApi(request, "Second Agency");
  await createProperty(request, first, "Erstes Haus");
  await createProperty(request, second, "Zweites Haus");
  const email = unique("member");
  const invitation = await call(request, first, "POST", "/api/v1/members", { email, role: "manager" });

  // A new account from the invitation, in the browser.
  await page.goto(`/accept?token=${encodeURIComponent(invitation.token)}`);
  await expectAccessible(page, "accept invitation");
  await page.getByRole("textbox", { name: /full name/i }).fill("Mia Member");
  await page.getByRole("textbox", { name: /password/i }).fill(PASSWORD);
  await shot(page, info, "accept");
  await page.getByRole("button", { name: /accept/i }).click();
  await page.waitForURL("**/calendar");
  await expect(page.getByTestId("calendar-row")).toHaveText(["Erstes Haus"]);

  // The same person joins the second agency (as staff).
  const login = await (await request.post(`${API}/api/v1/auth/login`, { data: { email, password: PASSWORD } })).json();
  const second_invite = await call(request, second, "POST", "/api/v1/members", { email, role: "staff" });
  const accepted = await request.post(`${API}/api/v1/invitations/accept`, {
    data: { token: second_invite.token },
    headers: { authorization: `Bearer ${login.access_token}` },
  });
  expect(accepted.ok()).toBeTruthy();

  await page.reload();
  const switcher = page.getByTestId("agency-switch");
  await expect(switcher).toBeVisible();
  await shot(page, info, "first-agency");
  await switcher.click();
  await page.getByRole("option", { name: /Second Agency/ }).click();
  await expect(page.getByTestId("calendar-row")).toHaveText(["Zweites Haus"]);
  await page.getByRole("navigation").getByRole("link", { name: "Properties" }).click();
  await expect(page.getByTestId("property-row")).toHaveText([/Zweites Haus/]);
  await expect(page.getByText("Erstes Haus")).toHaveCount(0);
  // Staff there: no property creation offered.
  await expect(page.getByTestId("new-property")).toHaveCount(0);
  await shot(page, info, "second-agency");
});
