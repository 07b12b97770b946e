// The guests' booking site: search → property → quote → hold → details → fake Stripe's hosted
// page → confirmation → e-mail → self-service → cancel with refund → the dates offered again;
// Google's landing URL shows the quote; the sitemap and the VacationRental markup; German.
import { expect, test } from "@playwright/test";
import { API, expectAccessible, isoDay, shot } from "./helpers";
import { guestAgency, mailTo } from "./guest";

test("a guest finds, books and pays, manages and cancels a stay", async ({ page, request }, info) => {
  const { slug, property } = await guestAgency(request, "Guest Site Stays");
  const checkIn = isoDay(45);
  const checkOut = isoDay(48);

  await page.goto(`/${slug}`);
  await expect(page.getByRole("heading", { name: "Find your stay" })).toBeVisible();
  await expect(page.getByTestId("result")).toHaveCount(1);
  await shot(page, info, "home");
  await expectAccessible(page, "agency home");
  await page.getByLabel("Check-in").fill(checkIn);
  await page.getByLabel("Check-out").fill(checkOut);
  await page.getByLabel("Guests").fill("2");
  await page.getByRole("checkbox", { name: "Sauna" }).check();
  await page.getByRole("button", { name: "Search" }).click();
  await expect(page.getByTestId("result-count")).toHaveText("1 property is free for these dates.");
  const total = page.getByTestId("stay-total");
  await expect(total).toContainText("for your stay");
  await expect(page.getByTestId("results-map").getByRole("link", { name: /Dünenhaus/ })).toBeVisible();
  await expect(page.getByTestId("results-map")).toContainText("OpenStreetMap");
  await shot(page, info, "results");
  await expectAccessible(page, "search results");

  await page.getByRole("link", { name: "Dünenhaus Westerland", exact: true }).click();
  await expect(page.getByTestId("quote-total")).toBeVisible();
  const quoted = await page.getByTestId("quote-total").innerText();
  expect(await total.count()).toBe(0);
  await expect(page.getByTestId("policy")).toContainText("you get 100% back");
  await expect(page.getByRole("img", { name: "The house from the dunes" })).toBeVisible();
  const ld = JSON.parse((await page.locator('script[type="application/ld+json"]').textContent()) ?? "{}");
  expect(ld["@type"]).toBe("VacationRental");
  expect(ld.identifier).toBe(property.id);
  // The date picker by keyboard: check-in, three days on, check-out.
  const day = page.locator(`button[data-date="${checkIn}"]`);
  await day.focus();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("picker-status")).toContainText("Now choose your check-out day");
  for (let i = 0; i < 3; i++) await page.keyboard.press("ArrowRight");
  await expect(page.locator(`button[data-date="${checkOut}"]`)).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`check_out=${checkOut}`));
  await expect(page.getByTestId("quote-total")).toHaveText(quoted);
  await shot(page, info, "property-quoted");
  await expectAccessible(page, "property page");

  await page.getByRole("button", { name: "Book", exact: true }).click();
  await expect(page.getByTestId("countdown")).toContainText(/\d+:\d\d/);
  await expect(page.getByTestId("checkout-total")).toHaveText(quoted);
  // Nothing filled in: the form says what is missing, at each field, in plain words.
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await expect(page.getByTestId("checkout-problem")).toHaveText("Please check the marked details.");
  await expect(page.getByTestId("last_name-error")).toHaveText("Please enter your last name.");
  await expect(page.getByTestId("accepted_terms-error")).toHaveText("Please accept the terms and the cancellation policy to book.");
  await expect(page.getByLabel("Last name")).toHaveAttribute("aria-invalid", "true");
  await shot(page, info, "details-invalid");
  await expectAccessible(page, "checkout with errors");
  await page.getByLabel("First name").fill("Lena");
  await page.getByLabel("Last name").fill("Vogel");
  await page.getByLabel(/I accept/).check();
  // An address the form lets through and the API refuses: the API's answer, in the same words.
  await page.getByLabel("E-mail").fill("lena@exa_mple.com");
  await page.getByRole("button", { name: "Confirm booking" }).click();
  await expect(page.getByTestId("email-error")).toHaveText("This does not look like an e-mail address, e.g. name@example.com.");
  await expect(page.getByTestId("last_name-error")).toHaveCount(0);
  const email = `lena-${Date.now()}@example.com`;
  await page.getByLabel("E-mail").fill(email);
  await shot(page, info, "details");
  await page.getByRole("button", { name: "Confirm booking" }).click();

  // Fake Stripe's hosted page (another origin): the card never reaches our servers.
  await expect(page.getByRole("heading", { name: /^Pay / })).toBeVisible();
  await shot(page, info, "stripe-page");
  await page.getByLabel("Card number").fill("4242 4242 4242 4242");
  await page.getByLabel("Expiry (MM/YY)").fill("12/34");
  await page.getByLabel("CVC").fill("123");
  await page.getByRole("button", { name: /^Pay / }).click();
  await expect(page.getByTestId("confirmed")).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId("booking-total")).toHaveText(quoted);
  const reference = await page.getByTestId("reference").innerText();
  await shot(page, info, "confirmation");
  await expectAccessible(page, "confirmation");

  const mail = await mailTo(email, new RegExp(reference));
  const link = /https?:\/\/\S+\/manage\/[A-Za-z0-9_.-]+/.exec(mail)?.[0];
  expect(link, mail).toBeTruthy();
  await page.goto(link!);
  await expect(page.getByTestId("booking-status")).toHaveText("Confirmed");
  await expect(page.getByTestId("refund-preview")).toContainText(`you get ${quoted} back (100%)`);
  await shot(page, info, "self-service");
  await expectAccessible(page, "self-service");
  const ics = await request.get(await page.getByTestId("ics").getAttribute("href").then((h) => new URL(h!, page.url()).toString()));
  expect(ics.headers()["content-type"]).toContain("text/calendar");
  expect(await ics.text()).toContain("BEGIN:VEVENT");

  await page.getByRole("link", { name: "Cancel booking…" }).click();
  await expect(page.getByText("Do you really want to cancel?")).toBeVisible();
  await shot(page, info, "cancel-confirm");
  await page.getByRole("button", { name: "Yes, cancel my booking" }).click();
  await expect(page.getByTestId("booking-status")).toHaveText("Cancelled");
  await expect(page.getByTestId("refund-given")).toHaveText(`Refunded: ${quoted}`);
  await shot(page, info, "cancelled");

  await page.goto(`/${slug}?check_in=${checkIn}&check_out=${checkOut}&adults=2`);
  await expect(page.getByTestId("result-count")).toHaveText("1 property is free for these dates.");
  await page.goto(`/${slug}/properties/${property.id}?check_in=${checkIn}&check_out=${checkOut}&adults=2`);
  await expect(page.getByRole("button", { name: "Book", exact: true })).toBeVisible();
  await shot(page, info, "offered-again");
});

test("Google's landing URL shows the quoted total; the sitemap lists only listed homes; German", async ({ page, request, browser }, info) => {
  const { slug, property, unlisted } = await guestAgency(request, "Landing Stays");
  const other = await guestAgency(request, "Other Stays");
  const [checkIn, checkOut] = [isoDay(60), isoDay(64)];
  const quote = await request.post(`${API}/api/v1/public/${slug}/quotes`, { data: { property_id: property.id, check_in: checkIn, check_out: checkOut, adults: 3 } });
  const total = (await quote.json()).total.amount_minor as number;
  await page.goto(`/${slug}/properties/${property.id}?check_in=${checkIn}&check_out=${checkOut}&adults=3`);
  await expect(page.getByTestId("quote-total")).toHaveText(new Intl.NumberFormat("en-US", { style: "currency", currency: "EUR" }).format(total / 100));
  await shot(page, info, "landing");
  await page.getByRole("button", { name: "Deutsch" }).click();
  await expect(page.getByRole("heading", { name: "Hausregeln" })).toBeVisible();
  await page.getByRole("button", { name: "English" }).click();
  await expect(page.getByRole("heading", { name: "House rules" })).toBeVisible();

  // Dates in the past: an answer (no home, or the API's message), not an error page.
  const past = await page.goto(`/${slug}?check_in=2020-01-01&check_out=2020-01-03&adults=2`);
  expect(past?.status()).toBe(200);
  await expect(page.getByTestId("result-count").or(page.getByTestId("search-problem"))).toBeVisible();

  const sitemap = await (await request.get(`/${slug}/sitemap.xml`)).text();
  expect(sitemap).toContain(`/${slug}/properties/${property.id}</loc>`);
  expect(sitemap.match(/<loc>/g)).toHaveLength(2); // home + the one listed property
  expect((await request.get(`/no-such-agency-xyz/sitemap.xml`)).status()).toBe(404);
  // Never an unlisted home, nor another agency's.
  expect((await request.get(`/${slug}/properties/${unlisted.id}`)).status()).toBe(404);
  expect((await request.get(`/${slug}/properties/${other.property.id}`)).status()).toBe(404);
  expect((await request.get(`/${other.slug}/properties/${other.property.id}`)).status()).toBe(200);

  const de = await browser.newContext({ locale: "de-DE", extraHTTPHeaders: { "accept-language": "de-DE,de;q=0.9" } });
  const seite = await de.newPage();
  await seite.goto(`${info.project.use.baseURL}/${slug}/properties/${property.id}?check_in=${checkIn}&check_out=${checkOut}&adults=3`);
  await expect(seite.getByRole("heading", { name: "Hausregeln" })).toBeVisible();
  await expect(seite.getByTestId("quote-total")).toHaveText(new Intl.NumberFormat("de-DE", { style: "currency", currency: "EUR" }).format(total / 100));
  await shot(seite, info, "landing-de");
  await expectAccessible(seite, "property page (de)");
  // A stay the rules refuse, said in German (not the API's English words).
  await seite.goto(`${info.project.use.baseURL}/${slug}/properties/${property.id}?check_in=2020-01-01&check_out=2020-01-03&adults=2`);
  await expect(seite.getByTestId("not-bookable")).toContainText("Diese Daten sind noch nicht oder nicht mehr buchbar: Wählen Sie andere Daten.");
  await expect(seite.getByTestId("not-bookable")).not.toContainText("days ahead");
  await expect(seite.getByTestId("quote-total")).toHaveCount(0);
  // A link cannot put words of its own on the page: only our codes are shown.
  await seite.goto(`${info.project.use.baseURL}/${slug}/properties/${property.id}?error=${encodeURIComponent("Call +1 555 0100")}`);
  await expect(seite.getByText("Call +1 555 0100")).toHaveCount(0);
  await seite.goto(`${info.project.use.baseURL}/${slug}/properties/${property.id}?check_in=${checkIn}&check_out=${checkOut}&adults=3`);
  // The checkout in German: the same checks, in German.
  await seite.getByRole("button", { name: "Buchen", exact: true }).click();
  await expect(seite.getByTestId("countdown")).toContainText(/\d+:\d\d/);
  await seite.getByRole("button", { name: "Buchung abschließen" }).click();
  await expect(seite.getByTestId("checkout-problem")).toHaveText("Bitte prüfen Sie die markierten Angaben.");
  await expect(seite.getByTestId("last_name-error")).toHaveText("Bitte geben Sie Ihren Nachnamen an.");
  await expect(seite.getByTestId("email-error")).toHaveText("Bitte geben Sie Ihre E-Mail-Adresse an: dorthin senden wir Ihre Bestätigung.");
  await shot(seite, info, "checkout-de-invalid");
  await expectAccessible(seite, "checkout with errors (de)");
  await de.close();
});
