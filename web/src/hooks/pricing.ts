"use client";
// The agency's pricing lists (tax classes, fees, visitor taxes), a rate plan's seasons, and the
// writes the pricing editors make. Every write makes the rates, ARI, quotes and pricing stale.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";

type Body = Record<string, unknown>;
export type PropertyPricingUpdate = components["schemas"]["PropertyPricingUpdate"];

export function useTaxClasses() {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "pricing", "tax-classes"), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/tax-classes", { signal })), enabled: !!agency });
}

export function useFees() {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "pricing", "fees"), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/fees", { signal })), enabled: !!agency });
}

export function useVisitorTaxes() {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "pricing", "visitor-taxes"), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/visitor-taxes", { signal })), enabled: !!agency });
}

export function useSeasons(planId: string | null) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "rates", "seasons", planId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/rate-plans/{rate_plan_id}/seasons", { params: { path: { rate_plan_id: planId! } }, signal })),
    enabled: !!agency && !!planId,
  });
}

/** Makes every pricing read of this agency stale (after any pricing write). */
export function useInvalidatePricing() {
  const qc = useQueryClient();
  const agency = useAgency();
  return () => void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === (agency ?? "-") && ["rates", "ari", "pricing", "policies"].includes(q.queryKey[1] as string) });
}

// The writes, as the editors call them (bodies checked by the API; its 422s name the fields).
export const pricingApi = {
  createPlan: (propertyId: string, body: Body) => unwrap(api.POST("/api/v1/properties/{property_id}/rate-plans", { params: { path: { property_id: propertyId } }, body: body as never })),
  updatePlan: (id: string, body: Body) => unwrap(api.PATCH("/api/v1/rate-plans/{rate_plan_id}", { params: { path: { rate_plan_id: id } }, body: body as never })),
  deletePlan: (id: string) => unwrap(api.DELETE("/api/v1/rate-plans/{rate_plan_id}", { params: { path: { rate_plan_id: id } } })),
  createSeason: (planId: string, body: Body) => unwrap(api.POST("/api/v1/rate-plans/{rate_plan_id}/seasons", { params: { path: { rate_plan_id: planId } }, body: body as never })),
  updateSeason: (planId: string, id: string, body: Body) => unwrap(api.PATCH("/api/v1/rate-plans/{rate_plan_id}/seasons/{season_id}", { params: { path: { rate_plan_id: planId, season_id: id } }, body: body as never })),
  deleteSeason: (planId: string, id: string) => unwrap(api.DELETE("/api/v1/rate-plans/{rate_plan_id}/seasons/{season_id}", { params: { path: { rate_plan_id: planId, season_id: id } } })),
  createTaxClass: (body: Body) => unwrap(api.POST("/api/v1/tax-classes", { body: body as never })),
  updateTaxClass: (id: string, body: Body) => unwrap(api.PATCH("/api/v1/tax-classes/{tax_class_id}", { params: { path: { tax_class_id: id } }, body: body as never })),
  deleteTaxClass: (id: string) => unwrap(api.DELETE("/api/v1/tax-classes/{tax_class_id}", { params: { path: { tax_class_id: id } } })),
  createFee: (body: Body) => unwrap(api.POST("/api/v1/fees", { body: body as never })),
  updateFee: (id: string, body: Body) => unwrap(api.PATCH("/api/v1/fees/{fee_id}", { params: { path: { fee_id: id } }, body: body as never })),
  deleteFee: (id: string) => unwrap(api.DELETE("/api/v1/fees/{fee_id}", { params: { path: { fee_id: id } } })),
  createVisitorTax: (body: Body) => unwrap(api.POST("/api/v1/visitor-taxes", { body: body as never })),
  updateVisitorTax: (id: string, body: Body) => unwrap(api.PATCH("/api/v1/visitor-taxes/{visitor_tax_id}", { params: { path: { visitor_tax_id: id } }, body: body as never })),
  deleteVisitorTax: (id: string) => unwrap(api.DELETE("/api/v1/visitor-taxes/{visitor_tax_id}", { params: { path: { visitor_tax_id: id } } })),
  setPropertyPricing: (propertyId: string, body: PropertyPricingUpdate) => unwrap(api.PUT("/api/v1/properties/{property_id}/pricing", { params: { path: { property_id: propertyId } }, body })),
};
