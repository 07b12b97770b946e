import { expect, test } from "@playwright/test";
import { call, createProperty, expectAccessible, isoDay, login, shot, signupApi } from "./helpers";

test("pricing set-up: a season, a tax class, a fee and a visitor tax applied to the property, seen in the quote preview", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Pricing Agency");
  const property = await createProperty(request, admin, "Haus Preis");
  await call(request, admin, "POST", `/api/v1/properties/${property.id}/rate-plans`, { name: "Standard", base_price_minor: 10000 });
  await login(page, admin.email);
  await page.goto(`/rates?property=${property.id}`);

  // A season on the plan; a price that is not an amount is named next to its field first.
  await page.getByRole("tab", { name: "Plans and seasons" }).click();
  await expect(page.getByTestId("plans-row")).toHaveCount(1);
  await page.getByTestId("seasons-new").click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("textbox", { name: "Name" }).fill("Sommer");
  await dialog.getByRole("textbox", { name: "From" }).fill(isoDay(20));
  await dialog.getByRole("textbox", { name: "Until (exclusive)" }).fill(isoDay(30));
  await dialog.getByRole("textbox", { name: /Price per night/ }).fill("zwölf");
  await dialog.getByTestId("seasons-save").click();
  await expect(dialog.getByText("not an amount")).toBeVisible();
  await dialog.getByRole("textbox", { name: /Price per night/ }).fill("150");
  await dialog.getByTestId("seasons-save").click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId("seasons-row")).toContainText("€150.00");
  await shot(page, info, "plans-and-seasons");
  await expectAccessible(page, "plans and seasons");

  // Agency-wide lists, then what applies to this property.
  await page.getByRole("tab", { name: "Fees and taxes" }).click();
  await page.getByTestId("fees-new").click();
  await dialog.getByRole("textbox", { name: "Code" }).fill("clean");
  await dialog.getByRole("textbox", { name: "Label" }).fill("Endreinigung");
  await dialog.getByRole("combobox", { name: "Charged" }).click();
  await page.getByRole("option", { name: "per stay", exact: true }).click();
  await dialog.getByRole("textbox", { name: "Currency" }).fill("EUR");
  await dialog.getByRole("textbox", { name: /Amount/ }).fill("50");
  await dialog.getByTestId("fees-save").click();
  await expect(page.getByTestId("fees-row")).toContainText("€50.00");
  await page.getByTestId("visitor-taxes-new").click();
  await dialog.getByRole("textbox", { name: "Name" }).fill("Kurtaxe Konstanz");
  await dialog.getByRole("textbox", { name: "Currency" }).fill("EUR");
  await dialog.getByRole("textbox", { name: /Per person and night/ }).fill("2,50");
  await dialog.getByRole("textbox", { name: "Children free below age" }).fill("16");
  await dialog.getByTestId("visitor-taxes-save").click();
  await expect(page.getByTestId("visitor-taxes-row")).toContainText("€2.50");
  await page.getByTestId("tax-classes-new").click();
  await dialog.getByRole("textbox", { name: "Code" }).fill("vat7");
  await dialog.getByRole("textbox", { name: "Rate (%)" }).fill("7");
  await dialog.getByRole("checkbox", { name: "Included in prices" }).check();
  await dialog.getByTestId("tax-classes-save").click();
  await expect(page.getByTestId("tax-classes-row")).toContainText("vat7");

  const applies = page.getByTestId("property-pricing");
  await applies.getByRole("combobox", { name: "Visitor tax" }).click();
  await page.getByRole("option", { name: "Kurtaxe Konstanz" }).click();
  await applies.getByRole("combobox", { name: "Fees" }).click({ force: true }); // its pill box takes the pointer
  await page.getByRole("option", { name: "Endreinigung" }).click();
  await page.keyboard.press("Escape");
  await applies.getByTestId("save-property-pricing").click();
  await expect(applies.getByRole("status")).toHaveText("Saved.");
  await shot(page, info, "fees-and-taxes");
  await expectAccessible(page, "fees and taxes");

  // The quote preview: 3 season nights (450) + cleaning (50) + visitor tax 2 × 3 × 2.50 (15).
  await page.getByRole("tab", { name: "Quote preview" }).click();
  const preview = page.getByTestId("quote-preview");
  await preview.getByRole("textbox", { name: "Arrival" }).fill(isoDay(21));
  await preview.getByRole("textbox", { name: "Departure" }).fill(isoDay(24));
  await expect(preview).toContainText("Endreinigung");
  await expect(preview.getByTestId("quote-total")).toHaveText("€515.00");
  await shot(page, info, "quote-preview");
});
