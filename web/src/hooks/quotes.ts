"use client";
import { useQuery } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";

export type QuoteRequest = components["schemas"]["QuoteRequest"];
export type Quote = components["schemas"]["Quote"];

/** A live quote for a stay (null request: nothing asked yet). */
export function useQuote(req: QuoteRequest | null) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "rates", "quote", req),
    queryFn: ({ signal }) => unwrap(api.POST("/api/v1/quotes", { body: req!, signal })),
    enabled: !!agency && !!req && req.check_in < req.check_out,
    retry: false,
  });
}
