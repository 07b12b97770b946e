import { describe, expect, it } from "vitest";
import { closedBecause, platformsOf, readNights } from "./channelNights";

const open = { available: true, price_minor: 12000, min_stay: 2, max_stay: null, closed_to_arrival: false, closed_to_departure: false };
const shut = { ...open, available: false };
const airbnb = (should: object | null, ack: object | null, extra: object = {}) => ({
  mapping_id: "m1", platform: "airbnb", remote_listing_id: "50001", should_show: should, acknowledged: ack, pushed_at: ack ? "2030-01-01T10:00:00+00:00" : null, in_step: false, pending: false, ...extra,
});

describe("channel nights", () => {
  it("reads why a night is closed and what each platform has", () => {
    const nights = readNights([
      { date: "2030-01-01", occupied_by: { kind: "confirmed", booking_id: "b1", block_id: null }, channels: [airbnb(shut, shut, { in_step: true })] },
      { date: "2030-01-02", occupied_by: { kind: "block", booking_id: null, block_id: "k1" }, channels: [airbnb(shut, open, { pending: true })] },
      { date: "2030-01-03", occupied_by: null, channels: [airbnb(open, null)] },
      { date: "2030-01-04", occupied_by: null, channels: [airbnb(shut, null)] },
    ]);
    expect(nights.map((n) => n.reason.kind)).toEqual(["confirmed", "block", "free", "free"]);
    expect(nights[0]?.reason).toEqual({ kind: "confirmed", bookingId: "b1", blockId: null });
    expect(nights.map((n) => n.platforms[0]?.state)).toEqual(["in_step", "pending", "differs", "differs"]);
    expect(nights.map((n) => closedBecause(n, n.platforms[0]!))).toEqual(["booked", "blocked", null, "closed"]);
    expect(nights[0]?.platforms[0]?.pushedAt).toBe("2030-01-01T10:00:00+00:00");
    expect(nights[2]?.platforms[0]?.pushedAt).toBeNull();
    expect(platformsOf(nights)).toEqual([{ mappingId: "m1", platform: "airbnb", listing: "50001" }]);
  });

  it("has no platforms when the property is not mapped", () => {
    const nights = readNights([{ date: "2030-01-01", occupied_by: null, channels: [] }]);
    expect(platformsOf(nights)).toEqual([]);
    expect(platformsOf([])).toEqual([]);
  });
});
