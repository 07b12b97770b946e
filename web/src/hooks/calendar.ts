"use client";
// The calendar's reads: all visible properties' days in one request, and the bookings and blocks
// overlapping the window (for source, status, guest and version).
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { IsoDate } from "@/lib/dates";
import { useAgency } from "./agency";
import { key } from "./keys";
import { allPages } from "./pages";

export function useCalendar(start: IsoDate, end: IsoDate) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "calendar", start, end),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/calendar", { params: { query: { start, end } }, signal })),
    placeholderData: keepPreviousData,
    enabled: !!agency,
  });
}

export function useBookingsInRange(start: IsoDate, end: IsoDate) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "bookings", "range", start, end),
    queryFn: async ({ signal }) => {
      const items = await allPages((offset, limit) =>
        unwrap(api.GET("/api/v1/bookings", { params: { query: { start, end, offset, limit } }, signal })),
      );
      return new Map(items.map((b) => [b.id, b]));
    },
    placeholderData: keepPreviousData,
    enabled: !!agency,
  });
}
