"use client";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components, operations } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";

export type Payment = components["schemas"]["PaymentOut"];
export type PaymentFilters = NonNullable<operations["list_payments_api_v1_payments_get"]["parameters"]["query"]>;

export function usePayments(filters: PaymentFilters, enabled = true) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "payments", filters),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/payments", { params: { query: filters }, signal })),
    placeholderData: keepPreviousData,
    enabled: !!agency && enabled,
  });
}
