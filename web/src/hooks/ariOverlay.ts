"use client";
// The calendar's rates overlay: the ARI of the properties whose rows are on screen, one request
// per property and window, shared with the rates page's cache (same keys).
import { useQueries } from "@tanstack/react-query";
import { useMemo } from "react";
import { api, unwrap } from "@/api/client";
import { ratesOf, type DayRate } from "@/calendar/model";
import type { IsoDate } from "@/lib/dates";
import { useAgency } from "./agency";
import { key } from "./keys";

export function useRatesOverlay(propertyIds: string[], start: IsoDate, end: IsoDate, enabled: boolean): Map<string, Map<IsoDate, DayRate>> {
  const agency = useAgency();
  const results = useQueries({
    queries: (enabled ? propertyIds : []).map((id) => ({
      queryKey: key(agency, "ari", id, start, end),
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        unwrap(api.GET("/api/v1/properties/{property_id}/ari", { params: { path: { property_id: id }, query: { start, end } }, signal })),
      enabled: !!agency,
      staleTime: 60_000,
    })),
  });
  const stamp = results.map((r) => r.dataUpdatedAt).join(",");
  return useMemo(() => {
    const out = new Map<string, Map<IsoDate, DayRate>>();
    for (const r of results) if (r.data) out.set(r.data.property_id, ratesOf(r.data));
    return out;
    // eslint-disable-next-line react-hooks/exhaustive-deps -- `stamp` changes exactly when an answer does
  }, [stamp]);
}
