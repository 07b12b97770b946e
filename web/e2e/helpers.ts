// Shared steps of the end-to-end flows: accounts made through the API, sign-in through the UI,
// a screenshot per step, and the axe-core check on every page.
import AxeBuilder from "@axe-core/playwright";
import { expect, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const API = process.env.API_URL ?? "http://127.0.0.1:8000";
export const PASSWORD = "e2e-password-123";
const ARTIFACTS = process.env.ARTIFACTS_DIR ?? "test-results/steps";

let counter = 0;
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}@example.com`;
}

export function isoDay(offset: number): string {
  return new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
}

/** An ISO date as the English date inputs show it (MM/DD/YYYY). */
export function usDate(iso: string): string {
  return `${iso.slice(5, 7)}/${iso.slice(8, 10)}/${iso.slice(0, 4)}`;
}

/** A screenshot of what a person sees now, kept as an artifact of the flow. */
export async function shot(page: Page, info: TestInfo, step: string): Promise<void> {
  const dir = join(ARTIFACTS, info.titlePath.slice(1).join(" - ").replace(/[^\w.-]+/g, "_"));
  mkdirSync(dir, { recursive: true });
  const n = String(info.annotations.filter((a) => a.type === "step").length + 1).padStart(2, "0");
  info.annotations.push({ type: "step", description: step });
  await page.screenshot({ path: join(dir, `${n}-${step}.png`), fullPage: false });
}

/** axe-core on the page as it is: no serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await expect(page).toHaveTitle(/\S/);
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const text = bad.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
  expect(text, `axe on ${what}`).toEqual([]);
}

type Api = { token: string; agency: string; headers: Record<string, string> };

export async function signupApi(request: APIRequestContext, agencyName: string, email = unique("admin")): Promise<Api & { email: string }> {
  const res = await request.post(`${API}/api/v1/auth/signup`, { data: { email, password: PASSWORD, agency_name: agencyName } });
  expect(res.status(), await res.text()).toBe(201);
  const body = await res.json();
  return { email, token: body.access_token, agency: body.agency_id, headers: { authorization: `Bearer ${body.access_token}` } };
}

export async function call(request: APIRequestContext, who: Api, method: "GET" | "POST" | "PATCH" | "PUT", path: string, data?: unknown) {
  const res = await request.fetch(`${API}${path}`, {
    method,
    data,
    headers: { ...who.headers, "x-agency-id": who.agency, ...(method === "POST" ? { "idempotency-key": crypto.randomUUID() } : {}) },
  });
  expect(res.ok(), `${method} ${path}: ${res.status()} ${await res.text()}`).toBeTruthy();
  return res.status() === 204 ? null : res.json();
}

export async function createProperty(request: APIRequestContext, who: Api, name: string, extra: Record<string, unknown> = {}) {
  return call(request, who, "POST", "/api/v1/properties", { name, timezone: "Europe/Berlin", currency: "EUR", max_guests: 4, ...extra });
}

/** Invite a member with a role and accept the invitation (creating the account); returns the e-mail. */
export async function addMember(request: APIRequestContext, admin: Api, role: string): Promise<{ email: string; userId: string }> {
  const email = unique(role);
  const inv = await call(request, admin, "POST", "/api/v1/members", { email, role });
  const res = await request.post(`${API}/api/v1/invitations/accept`, { data: { token: inv.token, password: PASSWORD, full_name: `E2E ${role}` } });
  expect(res.ok(), await res.text()).toBeTruthy();
  return { email, userId: (await res.json()).user_id };
}

export async function login(page: Page, email: string): Promise<void> {
  await page.goto("/login");
  await page.getByRole("textbox", { name: /e-mail/i }).fill(email);
  await page.getByRole("textbox", { name: /password|passwort/i }).fill(PASSWORD);
  await page.getByRole("button", { name: /sign in|anmelden/i }).click();
  await page.waitForURL("**/calendar");
  await expect(page.getByTestId("calendar-grid").or(page.getByText(/no properties/i))).toBeVisible();
}

/** Drag across the free nights [from, to] (inclusive) of a property's row in the calendar. */
export async function selectNights(page: Page, propertyId: string, from: string, to: string): Promise<void> {
  const row = page.locator(`[data-testid="calendar-row"][data-property="${propertyId}"]`);
  const a = row.locator(`button[data-date="${from}"]`);
  const b = row.locator(`button[data-date="${to}"]`);
  await b.scrollIntoViewIfNeeded();
  const ba = (await a.boundingBox())!;
  const bb = (await b.boundingBox())!;
  await page.mouse.move(ba.x + ba.width / 2, ba.y + ba.height / 2);
  await page.mouse.down();
  await page.mouse.move(bb.x + bb.width / 2, bb.y + bb.height / 2, { steps: 8 });
  await page.mouse.up();
}
