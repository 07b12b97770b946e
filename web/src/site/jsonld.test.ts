// The markup is checked against the schema.org vocabulary: every property used must belong to
// its type (VacationRental → LodgingBusiness → … → Thing; Accommodation; …) with a value of an
// expected kind, and Google's required fields must be there.
import { describe, expect, it } from "vitest";
import { ldScript, vacationRental } from "./jsonld";
import type { PublicProperty } from "./server";

// The schema.org properties (with the expected value kinds) of the types this markup uses.
const VOCAB: Record<string, Record<string, string>> = {
  VacationRental: {
    "@context": "url", "@type": "type", "@id": "url", identifier: "text", name: "text", url: "url", image: "url[]",
    description: "text", latitude: "number", longitude: "number", address: "PostalAddress",
    containsPlace: "Accommodation", checkinTime: "time", checkoutTime: "time",
  },
  Accommodation: {
    "@type": "type", additionalType: "text", occupancy: "QuantitativeValue", numberOfBedrooms: "number",
    numberOfBathroomsTotal: "number", amenityFeature: "LocationFeatureSpecification[]",
  },
  QuantitativeValue: { "@type": "type", value: "number" },
  LocationFeatureSpecification: { "@type": "type", name: "text", value: "boolean" },
  PostalAddress: { "@type": "type", addressLocality: "text", addressCountry: "text" },
};
const REQUIRED = ["@context", "@type", "identifier", "name", "image", "latitude", "longitude", "containsPlace"];

function check(node: Record<string, unknown>, type: string, path = type): string[] {
  const props = VOCAB[type];
  if (!props) return [`${path}: unknown type ${type}`];
  const errors: string[] = [];
  if (node["@type"] !== type) errors.push(`${path}: @type ${String(node["@type"])}`);
  for (const [key, value] of Object.entries(node)) {
    const kind = props[key];
    if (!kind) {
      errors.push(`${path}.${key} is not a property of ${type}`);
      continue;
    }
    const many = kind.endsWith("[]");
    const base = many ? kind.slice(0, -2) : kind;
    const values = many ? (Array.isArray(value) ? value : [null]) : [value];
    for (const v of values) {
      if (base in VOCAB) errors.push(...(typeof v === "object" && v ? check(v as Record<string, unknown>, base, `${path}.${key}`) : [`${path}.${key}: not a ${base}`]));
      else if (base === "number" && typeof v !== "number") errors.push(`${path}.${key}: not a number`);
      else if (base === "boolean" && typeof v !== "boolean") errors.push(`${path}.${key}: not a boolean`);
      else if (base === "url" && !(typeof v === "string" && /^https?:\/\//.test(v))) errors.push(`${path}.${key}: not a URL`);
      else if (base === "time" && !(typeof v === "string" && /^\d{2}:\d{2}(:\d{2})?$/.test(v))) errors.push(`${path}.${key}: not a time`);
      else if ((base === "text" || base === "type") && typeof v !== "string") errors.push(`${path}.${key}: not text`);
    }
  }
  return errors;
}

const P: PublicProperty = {
  id: "5f0c1f7e-4a39-4c39-9b43-0d3f2b8f9a11", name: "Dune House", description: "By the sea </script>", city: "Sylt", country: "DE",
  latitude: "54.9", longitude: "8.3", max_guests: 4, bedrooms: 2, bathrooms: "1.5", amenities: ["wifi", "sauna"], instant_book: true,
  currency: "EUR", check_in_time: "15:00:00", check_out_time: "10:00:00", photos: [{ id: "p1", url: "x", caption: null }], from_price_minor: 9000,
};

describe("VacationRental JSON-LD", () => {
  const ld = vacationRental(P, "https://site.example/demo/properties/x", (id) => `https://site.example/photos/${id}`);
  it("uses only schema.org properties of the right kinds", () => {
    expect(check(ld, "VacationRental")).toEqual([]);
  });
  it("has Google's required fields", () => {
    for (const key of REQUIRED) expect(ld[key], key).toBeDefined();
  });
  it("cannot close its script element", () => {
    expect(ldScript(ld)).not.toContain("</script>");
    expect(JSON.parse(ldScript(ld)).description).toBe("By the sea </script>");
  });
  it("leaves out what the property does not have", () => {
    const bare = vacationRental({ ...P, latitude: null, longitude: null, city: null, country: null, description: null }, "https://s/x", (id) => `https://s/${id}`);
    expect(bare.latitude).toBeUndefined();
    expect(bare.address).toBeUndefined();
    expect(check(bare, "VacationRental")).toEqual([]);
  });
});
