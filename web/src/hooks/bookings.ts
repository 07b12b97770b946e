"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components, operations } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";

export type Booking = components["schemas"]["Booking"];
export type BookingCreate = components["schemas"]["BookingCreate"];
export type BookingUpdate = components["schemas"]["BookingUpdate"];
type StatusAction = operations["booking_action_api_v1_bookings__booking_id___action__post"]["parameters"]["path"]["action"];
/** The status moves of the table; cancelling has its own endpoint (it refunds). */
export type BookingAction = StatusAction | "cancel";
export type BookingFilters = NonNullable<operations["list_bookings_api_v1_bookings_get"]["parameters"]["query"]>;

export function useBookings(filters: BookingFilters) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "bookings", "list", filters),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/bookings", { params: { query: filters }, signal })),
    enabled: !!agency,
  });
}

export function useBooking(id: string) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "booking", id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/bookings/{booking_id}", { params: { path: { booking_id: id } }, signal })),
    enabled: !!agency,
  });
}

function useInvalidateBookings() {
  const qc = useQueryClient();
  const agency = useAgency();
  return () =>
    qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === (agency ?? "-") && ["calendar", "bookings", "booking", "audit"].includes(q.queryKey[1] as string) });
}

export function useCreateBooking() {
  const invalidate = useInvalidateBookings();
  return useMutation({
    mutationFn: (body: BookingCreate) => unwrap(api.POST("/api/v1/bookings", { body })),
    onSuccess: invalidate,
  });
}

export function useUpdateBooking() {
  const qc = useQueryClient();
  const agency = useAgency();
  const invalidate = useInvalidateBookings();
  return useMutation({
    mutationFn: ({ id, ...body }: BookingUpdate & { id: string }) =>
      unwrap(api.PATCH("/api/v1/bookings/{booking_id}", { params: { path: { booking_id: id } }, body })),
    // The answer is the booking as saved: the calendar's bookings hold it at once, so a second
    // move of the same bar (its new property, its new version) does not wait for the refetch,
    // which may come back after the calendar's own.
    onSuccess: (saved) =>
      qc.setQueriesData<Map<string, Booking>>(
        { predicate: (q) => q.queryKey[0] === (agency ?? "-") && q.queryKey[1] === "bookings" && q.queryKey[2] === "range" },
        (old) => (old?.has(saved.id) ? new Map(old).set(saved.id, saved) : old),
      ),
    onSettled: invalidate,
  });
}

export function useBookingAction() {
  const invalidate = useInvalidateBookings();
  return useMutation({
    mutationFn: ({ id, action, refundMinor }: { id: string; action: BookingAction; refundMinor?: number }) =>
      action === "cancel"
        ? unwrap(api.POST("/api/v1/bookings/{booking_id}/cancel", { params: { path: { booking_id: id } }, body: refundMinor === undefined ? {} : { refund_minor: refundMinor } }))
        : unwrap(api.POST("/api/v1/bookings/{booking_id}/{action}", { params: { path: { booking_id: id, action } } })),
    onSuccess: invalidate,
  });
}

export function useCreateBlock() {
  const qc = useQueryClient();
  const agency = useAgency();
  return useMutation({
    mutationFn: (body: components["schemas"]["BlockCreate"]) => unwrap(api.POST("/api/v1/blocks", { body })),
    onSuccess: () => qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === (agency ?? "-") && ["calendar", "blocks"].includes(q.queryKey[1] as string) }),
  });
}

export function useAudit(entityId: string, enabled: boolean) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "audit", entityId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/audit-log", { params: { query: { entity_id: entityId, limit: 50 } }, signal })),
    enabled: !!agency && enabled,
  });
}

/** Which status actions the table allows from a status (domain.md), before the role filter. */
export const NEXT_ACTIONS: Record<Booking["status"], BookingAction[]> = {
  inquiry: ["confirm", "decline", "cancel"],
  requested: ["confirm", "decline", "cancel"],
  hold: ["confirm", "cancel"],
  confirmed: ["check-in", "cancel", "no-show"],
  checked_in: ["check-out"],
  checked_out: [],
  conflict: ["confirm", "cancel"],
  cancelled: [],
  declined: [],
  expired: [],
  no_show: [],
};

export const ACTION_PERMISSION: Record<BookingAction, "bookings.operate" | "bookings.cancel"> = {
  confirm: "bookings.operate",
  "check-in": "bookings.operate",
  "check-out": "bookings.operate",
  "no-show": "bookings.operate",
  cancel: "bookings.cancel",
  decline: "bookings.cancel",
};
