// Query keys: every key starts with the agency, so answers of one agency are never shown in
// another (switching agency also clears the cache).
export type Resource = "calendar" | "bookings" | "booking" | "blocks" | "properties" | "property" | "rates" | "ari" | "guests" | "guest" | "members" | "ical" | "alerts" | "pricing" | "policies" | "audit" | "payments" | "channel";

export function key(agency: string | null, resource: Resource, ...rest: unknown[]): unknown[] {
  return [agency ?? "-", resource, ...rest];
}

/** Which cached reads an event of the live stream makes stale. */
export function staleBy(eventType: string): Resource[] {
  if (eventType.startsWith("booking.")) return ["calendar", "bookings", "booking", "guest", "audit", "payments"];
  if (eventType.startsWith("block.")) return ["calendar", "blocks"];
  if (eventType === "availability.changed") return ["calendar"];
  if (eventType === "ari.changed") return ["ari", "rates"];
  if (eventType.startsWith("alert.")) return ["alerts", "ical"];
  if (eventType.startsWith("property.")) return ["properties", "property", "calendar"];
  return [];
}
