// The guests' booking site: an agency with a listed property (rates, a cancellation policy,
// photos, amenities, a place on the map), and the e-mails the SMTP sink keeps (MAIL_DIR).
import { expect, type APIRequestContext } from "@playwright/test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { API, call, createProperty, signupApi } from "./helpers";

const MAIL_DIR = process.env.MAIL_DIR ?? "";
export const SANDBOX = process.env.SANDBOX_URL ?? "http://127.0.0.1:8100";
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkaPhfDwAEhAGAhKmMIQAAAABJRU5ErkJggg==", "base64");

export async function guestAgency(request: APIRequestContext, name: string, opts: { instantBook?: boolean; origins?: string[] } = {}) {
  const admin = await signupApi(request, name);
  const property = await createProperty(request, admin, "Dünenhaus Westerland", {
    is_listed: true,
    instant_book: opts.instantBook ?? true,
    city: "Westerland",
    country: "DE",
    latitude: "54.9079",
    longitude: "8.3105",
    bedrooms: 2,
    amenities: ["wifi", "sauna"],
    description: "A thatched house behind the dunes.",
  });
  const unlisted = await createProperty(request, admin, "Unlisted Hut", { is_listed: false });
  await call(request, admin, "POST", `/api/v1/properties/${property.id}/rate-plans`, { name: "Standard", base_price_minor: 10000 });
  const policy = await call(request, admin, "POST", "/api/v1/cancellation-policies", {
    name: "Moderate",
    rules: [
      { days_before: 30, refund_percent: "100" },
      { days_before: 7, refund_percent: "50" },
    ],
  });
  await call(request, admin, "PUT", `/api/v1/properties/${property.id}/pricing`, { cancellation_policy_id: policy.id });
  const photo = await request.post(`${API}/api/v1/properties/${property.id}/photos`, {
    multipart: { file: { name: "house.png", mimeType: "image/png", buffer: PNG }, caption: "The house from the dunes" },
    headers: { ...admin.headers, "x-agency-id": admin.agency, "idempotency-key": crypto.randomUUID() },
  });
  expect(photo.ok(), await photo.text()).toBeTruthy();
  const agency = await call(request, admin, "PATCH", "/api/v1/agency", opts.origins ? { public_origins: opts.origins } : {});
  return { admin, property, unlisted, slug: agency.slug as string };
}

/** The newest e-mail to `to` whose subject matches, as text, once the worker has sent it. */
export async function mailTo(to: string, subject: RegExp): Promise<string> {
  let found = "";
  await expect
    .poll(
      () => {
        for (const f of readdirSync(MAIL_DIR).sort().reverse()) {
          const raw = readFileSync(join(MAIL_DIR, f), "utf8");
          const subj = /^Subject: (.*)$/m.exec(raw)?.[1] ?? "";
          if (raw.includes(`To: ${to}`) && subject.test(decodeHeader(subj))) {
            found = decodeBodies(raw);
            return true;
          }
        }
        return false;
      },
      { timeout: 30_000, message: `an e-mail to ${to} matching ${subject}` },
    )
    .toBe(true);
  return found;
}

function decodeHeader(h: string): string {
  return h.replace(/=\?utf-8\?([bq])\?([^?]*)\?=/gi, (_, enc: string, text: string) =>
    enc.toLowerCase() === "b" ? Buffer.from(text, "base64").toString("utf8") : qp(text.replace(/_/g, " ")),
  );
}

function qp(s: string): string {
  return Buffer.from(s.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), "latin1").toString("utf8");
}

/** The message with its quoted-printable and base64 parts decoded (enough to find links). */
function decodeBodies(raw: string): string {
  let out = qp(raw);
  for (const m of raw.matchAll(/Content-Transfer-Encoding: base64\r?\n(?:[^\r\n]+\r?\n)*\r?\n([A-Za-z0-9+/=\r\n]+)/g)) {
    out += "\n" + Buffer.from(m[1]!.replace(/\s/g, ""), "base64").toString("utf8");
  }
  return out;
}
