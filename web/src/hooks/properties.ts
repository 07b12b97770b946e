"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";
import { allPages } from "./pages";

export type Property = components["schemas"]["Property"];
export type PropertyCreate = components["schemas"]["PropertyCreate"];
export type PropertyUpdate = components["schemas"]["PropertyUpdate"];

/** Every property the caller may see (owners: their own), sorted by name. */
export function useProperties() {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "properties"),
    queryFn: ({ signal }) =>
      allPages((offset, limit) => unwrap(api.GET("/api/v1/properties", { params: { query: { offset, limit, sort: "name" } }, signal }))),
    enabled: !!agency,
  });
}

export function useProperty(id: string) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "property", id),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/properties/{property_id}", { params: { path: { property_id: id } }, signal })),
    enabled: !!agency,
  });
}

export function useCreateProperty() {
  const qc = useQueryClient();
  const agency = useAgency();
  return useMutation({
    mutationFn: (body: PropertyCreate) => unwrap(api.POST("/api/v1/properties", { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: key(agency, "properties") }),
  });
}

export function useUpdateProperty(id: string) {
  const qc = useQueryClient();
  const agency = useAgency();
  return useMutation({
    mutationFn: (body: PropertyUpdate) =>
      unwrap(api.PATCH("/api/v1/properties/{property_id}", { params: { path: { property_id: id } }, body })),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: key(agency, "properties") });
      void qc.invalidateQueries({ queryKey: key(agency, "property", id) });
    },
  });
}
