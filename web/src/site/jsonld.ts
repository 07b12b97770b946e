// schema.org VacationRental markup of a property page, as Google's vacation-rental structured
// data expects it (identifier, name, image, latitude/longitude, containsPlace with occupancy,
// bedrooms, bathrooms and amenities).
import type { PublicProperty } from "./server";

export function vacationRental(p: PublicProperty, pageUrl: string, photoUrl: (id: string) => string): Record<string, unknown> {
  const ld: Record<string, unknown> = {
    "@context": "https://schema.org",
    "@type": "VacationRental",
    "@id": pageUrl,
    identifier: p.id,
    name: p.name,
    url: pageUrl,
    image: p.photos.map((ph) => photoUrl(ph.id)),
    checkinTime: p.check_in_time,
    checkoutTime: p.check_out_time,
    containsPlace: {
      "@type": "Accommodation",
      additionalType: "EntirePlace",
      occupancy: { "@type": "QuantitativeValue", value: p.max_guests },
      numberOfBedrooms: p.bedrooms,
      numberOfBathroomsTotal: Number(p.bathrooms),
      amenityFeature: p.amenities.map((a) => ({ "@type": "LocationFeatureSpecification", name: a, value: true })),
    },
  };
  if (p.description) ld.description = p.description;
  if (p.latitude != null && p.longitude != null) {
    ld.latitude = Number(p.latitude);
    ld.longitude = Number(p.longitude);
  }
  if (p.city || p.country) {
    ld.address = { "@type": "PostalAddress", ...(p.city ? { addressLocality: p.city } : {}), ...(p.country ? { addressCountry: p.country } : {}) };
  }
  return ld;
}

/** JSON for a <script type="application/ld+json">: no "</script>" can close it early. */
export function ldScript(ld: unknown): string {
  return JSON.stringify(ld).replace(/</g, "\\u003c");
}
