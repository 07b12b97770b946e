"use client";
// Guests: the list (server-side search), one guest, their stays, edits and the GDPR actions.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";

export type Guest = components["schemas"]["Guest"];
export type GuestUpdate = components["schemas"]["GuestUpdate"];

export function useGuests(q: string) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "guests", q),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/guests", { params: { query: { q: q || undefined, limit: 100 } }, signal })),
    placeholderData: keepPreviousData,
    enabled: !!agency,
  });
}

export function useGuest(id: string) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "guest", id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/guests/{guest_id}", { params: { path: { guest_id: id } }, signal })),
    enabled: !!agency,
  });
}

/** A guest's stays, newest arrival first. */
export function useGuestStays(id: string) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "bookings", "guest", id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/bookings", { params: { query: { guest_id: id, sort: "-check_in", limit: 100 } }, signal })),
    enabled: !!agency,
  });
}

function useInvalidateGuests() {
  const qc = useQueryClient();
  const agency = useAgency();
  return () => qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === (agency ?? "-") && ["guests", "guest", "bookings", "booking"].includes(q.queryKey[1] as string) });
}

export function useUpdateGuest(id: string) {
  const invalidate = useInvalidateGuests();
  return useMutation({
    mutationFn: (body: GuestUpdate) => unwrap(api.PATCH("/api/v1/guests/{guest_id}", { params: { path: { guest_id: id } }, body })),
    onSuccess: invalidate,
  });
}

export function useEraseGuest() {
  const invalidate = useInvalidateGuests();
  return useMutation({
    mutationFn: (id: string) => unwrap(api.POST("/api/v1/guests/{guest_id}/erase", { params: { path: { guest_id: id } } })),
    onSuccess: invalidate,
  });
}

/** GDPR export: the API's JSON of everything stored about the guest, saved as a file. */
export async function downloadGuestExport(id: string): Promise<void> {
  const data = await unwrap(api.GET("/api/v1/guests/{guest_id}/export", { params: { path: { guest_id: id } } }));
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `guest-${id}.json`;
  a.click();
  URL.revokeObjectURL(url);
}

export function guestName(g: { first_name?: string | null; last_name?: string | null } | null | undefined): string {
  return [g?.first_name, g?.last_name].filter(Boolean).join(" ");
}
