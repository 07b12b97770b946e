import { describe, expect, it } from "vitest";
import { can } from "./permissions";
import { staleBy } from "@/hooks/keys";
import { pickLocale } from "@/i18n/locales";

describe("what the UI offers a role", () => {
  it("follows the API's role table", () => {
    expect(can("staff", "rates.write")).toBe(false);
    expect(can("staff", "bookings.create")).toBe(true);
    expect(can("staff", "bookings.cancel")).toBe(false);
    expect(can("manager", "rates.write")).toBe(true);
    expect(can("owner", "guests.read")).toBe(false);
    expect(can("owner", "owner_blocks.write")).toBe(true);
    expect(can(null, "bookings.read")).toBe(false);
  });
});

describe("live events", () => {
  it("make the reads they touch stale", () => {
    expect(staleBy("booking.created")).toContain("calendar");
    expect(staleBy("block.deleted")).toContain("calendar");
    expect(staleBy("ari.changed")).toContain("ari");
    expect(staleBy("something.else")).toEqual([]);
  });
});

describe("locale", () => {
  it("takes the cookie, else the browser's first supported language", () => {
    expect(pickLocale("de", "en-US")).toBe("de");
    expect(pickLocale(undefined, "fr-FR,de;q=0.8")).toBe("de");
    expect(pickLocale(undefined, null)).toBe("en");
  });
});
