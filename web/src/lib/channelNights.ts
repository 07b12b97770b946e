// The "why is this night closed" view: the API's per-night channel status (GET
// /properties/{id}/channel-days) read into a typed row per night and platform.
import type { components } from "@/api/schema";

type ChannelDay = components["schemas"]["ChannelDay"];

export interface NightValues {
  available: boolean | null;
  price_minor: number | null;
  min_stay: number | null;
  max_stay: number | null;
  closed_to_arrival: boolean | null;
  closed_to_departure: boolean | null;
}

/** Why Core holds the night: a booking, a block, a hold, or nothing (free). */
export type Reason = { kind: "free" } | { kind: string; bookingId: string | null; blockId: string | null };

/** What one platform should show for the night, and whether it has it. */
export interface PlatformNight {
  mappingId: string;
  platform: string;
  listing: string;
  shouldShow: NightValues | null;
  acknowledged: NightValues | null;
  pushedAt: string | null;
  /** in step: the platform acknowledged what it should show; pending: a push is queued. */
  state: "in_step" | "pending" | "differs";
}

export interface Night {
  date: string;
  reason: Reason;
  platforms: PlatformNight[];
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const values = (v: unknown): NightValues | null => (v && typeof v === "object" ? (v as NightValues) : null);

export function readNights(days: ChannelDay[]): Night[] {
  return days.map((d) => ({
    date: d.date,
    reason: d.occupied_by ? { kind: str(d.occupied_by.kind) ?? "occupied", bookingId: str(d.occupied_by.booking_id), blockId: str(d.occupied_by.block_id) } : { kind: "free" },
    platforms: d.channels.map((c) => ({
      mappingId: str(c.mapping_id) ?? "",
      platform: str(c.platform) ?? "",
      listing: str(c.remote_listing_id) ?? "",
      shouldShow: values(c.should_show),
      acknowledged: values(c.acknowledged),
      pushedAt: str(c.pushed_at),
      state: c.in_step === true ? "in_step" : c.pending === true ? "pending" : "differs",
    })),
  }));
}

/** Whether a platform should show the night closed (not bookable), and why in one word. */
export function closedBecause(n: Night, p: PlatformNight): "booked" | "blocked" | "held" | "closed" | null {
  if (p.shouldShow?.available !== false) return null;
  if (n.reason.kind === "free") return "closed";
  if (n.reason.kind === "block") return "blocked";
  if (n.reason.kind === "hold") return "held";
  return "booked";
}

/** The platforms of the first night (every night lists the same mappings). */
export function platformsOf(nights: Night[]): { mappingId: string; platform: string; listing: string }[] {
  return (nights[0]?.platforms ?? []).map(({ mappingId, platform, listing }) => ({ mappingId, platform, listing }));
}
