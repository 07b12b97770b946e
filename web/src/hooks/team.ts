"use client";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";

export type Member = components["schemas"]["Member"];
export type Role = components["schemas"]["Role"];

export function useMembers(enabled = true) {
  const agency = useAgency();
  return useQuery({
    queryKey: key(agency, "members"),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/members", { signal })),
    enabled: !!agency && enabled,
  });
}

export function useInvite() {
  return useMutation({ mutationFn: (body: { email: string; role: Role }) => unwrap(api.POST("/api/v1/members", { body })) });
}

export function useChangeRole() {
  const qc = useQueryClient();
  const agency = useAgency();
  return useMutation({
    mutationFn: ({ user_id, role }: { user_id: string; role: Role }) =>
      unwrap(api.PATCH("/api/v1/members/{user_id}", { params: { path: { user_id } }, body: { role } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: key(agency, "members") }),
  });
}
