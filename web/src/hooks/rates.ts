"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import type { IsoDate } from "@/lib/dates";
import { useAgency } from "./agency";
import { key } from "./keys";

export type DayRange = components["schemas"]["DayRange"];

export function useRatePlans(propertyId: string | null) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "rates", "plans", propertyId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/properties/{property_id}/rate-plans", { params: { path: { property_id: propertyId! } }, signal })),
    enabled: !!agency && !!propertyId,
  });
}

export function useAri(propertyId: string | null, start: IsoDate, end: IsoDate) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "ari", propertyId, start, end),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/properties/{property_id}/ari", { params: { path: { property_id: propertyId! }, query: { start, end } }, signal })),
    enabled: !!agency && !!propertyId,
  });
}

function useInvalidateRates() {
  const qc = useQueryClient();
  const agency = useAgency();
  return () => qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === (agency ?? "-") && ["rates", "ari", "pricing", "policies"].includes(q.queryKey[1] as string) });
}

export function useCreateRatePlan(propertyId: string) {
  const invalidate = useInvalidateRates();
  return useMutation({
    mutationFn: (body: components["schemas"]["RatePlanCreate"]) =>
      unwrap(api.POST("/api/v1/properties/{property_id}/rate-plans", { params: { path: { property_id: propertyId } }, body })),
    onSuccess: invalidate,
  });
}

export function useSetDays() {
  const invalidate = useInvalidateRates();
  return useMutation({
    mutationFn: ({ planId, ranges }: { planId: string; ranges: DayRange[] }) =>
      unwrap(api.PUT("/api/v1/rate-plans/{rate_plan_id}/days", { params: { path: { rate_plan_id: planId } }, body: { ranges } })),
    onSuccess: invalidate,
  });
}

export function usePricing(propertyId: string | null) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "pricing", propertyId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/properties/{property_id}/pricing", { params: { path: { property_id: propertyId! } }, signal })),
    enabled: !!agency && !!propertyId,
  });
}

export function usePolicies() {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "policies"),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/cancellation-policies", { signal })),
    enabled: !!agency,
  });
}

/** Create a cancellation policy and make it the property's (keeping its other pricing). */
export function useCreateAndAssignPolicy(propertyId: string) {
  const invalidate = useInvalidateRates();
  return useMutation({
    mutationFn: async (body: components["schemas"]["CancellationPolicyCreate"]) => {
      const policy = await unwrap(api.POST("/api/v1/cancellation-policies", { body }));
      const current = await unwrap(api.GET("/api/v1/properties/{property_id}/pricing", { params: { path: { property_id: propertyId } } }));
      return unwrap(
        api.PUT("/api/v1/properties/{property_id}/pricing", {
          params: { path: { property_id: propertyId } },
          body: {
            accommodation_tax_class_id: current.accommodation_tax_class_id,
            visitor_tax_location_id: current.visitor_tax_location_id,
            fee_ids: current.fee_ids,
            cancellation_policy_id: policy.id,
          },
        }),
      );
    },
    onSuccess: invalidate,
  });
}
