import { expect, test } from "@playwright/test";
import { createProperty, expectAccessible, login, shot, signupApi } from "./helpers";

// A 1×1 PNG.
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAEhAGAhKmMIQAAAABJRU5ErkJggg==", "base64");

test("a property's amenities are edited and its photos uploaded, reordered and deleted", async ({ page, request }, info) => {
  const admin = await signupApi(request, "Photo Agency");
  const property = await createProperty(request, admin, "Haus Bild", { is_listed: true });
  await login(page, admin.email);
  await page.goto(`/properties/${property.id}`);

  const amenities = page.getByRole("combobox", { name: "Amenities" });
  await amenities.click({ force: true }); // its pill box takes the pointer
  await page.getByRole("option", { name: "Sauna" }).click();
  await page.getByRole("option", { name: "Wi-Fi" }).click();
  await page.keyboard.press("Escape");
  await page.getByTestId("save-property").click();
  await expect(page.getByRole("status").filter({ hasText: "Saved." })).toBeVisible();
  await page.reload();
  await expect(page.getByTestId("amenities")).toBeVisible();
  await expect(page.locator(".mantine-Pill-label", { hasText: "Sauna" })).toBeVisible();
  await expect(page.locator(".mantine-Pill-label", { hasText: "Wi-Fi" })).toBeVisible();

  // Not mapped to any platform: the channels-per-night card says so.
  await expect(page.getByTestId("no-channel-nights")).toContainText("not mapped to any platform listing");

  const photos = page.getByTestId("photos");
  await expect(photos).toContainText("No photos yet.");
  await photos.getByRole("textbox", { name: "Caption" }).fill("Blick auf den See");
  await photos.locator('input[type="file"]').setInputFiles({ name: "see.png", mimeType: "image/png", buffer: PNG });
  await expect(photos.getByTestId("photo")).toHaveCount(1);
  await expect(photos.getByRole("img", { name: "Blick auf den See" })).toBeVisible();
  await expect.poll(() => photos.getByRole("img").evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1);
  await shot(page, info, "photo-and-amenities");
  await expectAccessible(page, "property with photos");
  await photos.getByRole("textbox", { name: "Caption" }).fill("Garten");
  await photos.locator('input[type="file"]').setInputFiles({ name: "garten.png", mimeType: "image/png", buffer: PNG });
  await expect(photos.getByTestId("photo")).toHaveCount(2);
  await expect(photos.getByRole("button", { name: "Move photo 1 earlier" })).toBeDisabled();
  await photos.getByRole("button", { name: "Move photo 2 earlier" }).click();
  await expect(photos.getByTestId("photo").first()).toContainText("1. Garten");
  await page.reload();
  await expect(photos.getByTestId("photo").first()).toContainText("1. Garten");
  await expect(photos.getByTestId("photo").nth(1)).toContainText("2. Blick auf den See");
  page.once("dialog", (d) => void d.accept());
  await photos.getByTestId("photo").first().getByRole("button", { name: "Delete" }).click();
  await expect(photos.getByTestId("photo")).toHaveCount(1);
  await expect(photos.getByTestId("photo").first()).toContainText("1. Blick auf den See");
});
