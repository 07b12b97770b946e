"use client";
// Channel Manager I over /api/v1/channel-connections: connections with their health, listing
// mappings, the sync log, dead letters (retry) and the conflict inbox.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import { useAgency } from "./agency";
import { key } from "./keys";

export type Connection = components["schemas"]["Connection"];
export type Mapping = components["schemas"]["Mapping"];
export type ConnectionCreate = components["schemas"]["ConnectionCreate"];
export type MappingCreate = components["schemas"]["MappingCreate"];
export type ConflictResolve = components["schemas"]["ConflictResolve"];

const path = (id: string) => ({ params: { path: { connection_id: id } } });

export function useConnections() {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "channel", "connections"), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/channel-connections", { params: { query: { limit: 200 } }, signal })), enabled: !!agency });
}

export function useMappings(id: string | null) {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "channel", "mappings", id), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/channel-connections/{connection_id}/mappings", { ...path(id!), signal })), enabled: !!agency && !!id });
}

export function useRemoteListings(id: string | null, enabled: boolean) {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "channel", "remote", id), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/channel-connections/{connection_id}/remote-listings", { ...path(id!), signal })), enabled: !!agency && !!id && enabled, retry: false });
}

export function useSyncLog(id: string | null) {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "channel", "log", id), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/channel-connections/{connection_id}/sync-log", { params: { path: { connection_id: id! }, query: { limit: 50 } }, signal })), enabled: !!agency && !!id });
}

export function useDeadLetters(id: string | null) {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "channel", "dead", id), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/channel-connections/{connection_id}/dead-letters", { params: { path: { connection_id: id! }, query: { open_only: true } }, signal })), enabled: !!agency && !!id });
}

export function useChannelConflicts() {
  const agency = useAgency();
  return useQuery({ queryKey: key(agency, "channel", "conflicts"), queryFn: ({ signal }) => unwrap(api.GET("/api/v1/channel-conflicts", { params: { query: { limit: 100 } }, signal })), enabled: !!agency });
}

function useInvalidate() {
  const qc = useQueryClient();
  const agency = useAgency();
  return () => void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === (agency ?? "-") && ["channel", "calendar", "bookings"].includes(q.queryKey[1] as string) });
}

/** Every write of the Channel Manager screens; each refreshes what it can change. */
export function useChannelActions() {
  const invalidate = useInvalidate();
  const useAction = <A,>(fn: (a: A) => Promise<unknown>) => useMutation({ mutationFn: fn, onSuccess: invalidate });
  return {
    create: useAction((body: ConnectionCreate) => unwrap(api.POST("/api/v1/channel-connections", { body }))),
    setStatus: useAction(({ id, status }: { id: string; status: "active" | "paused" }) => unwrap(api.PATCH("/api/v1/channel-connections/{connection_id}", { ...path(id), body: { status } }))),
    remove: useAction((id: string) => unwrap(api.DELETE("/api/v1/channel-connections/{connection_id}", path(id)))),
    test: useMutation({ mutationFn: (id: string) => unwrap(api.POST("/api/v1/channel-connections/{connection_id}/test", path(id))) }),
    reconcile: useAction((id: string) => unwrap(api.POST("/api/v1/channel-connections/{connection_id}/reconcile", path(id)))),
    map: useAction(({ id, body }: { id: string; body: MappingCreate }) => unwrap(api.POST("/api/v1/channel-connections/{connection_id}/mappings", { ...path(id), body }))),
    updateMapping: useAction(({ id, body }: { id: string; body: components["schemas"]["MappingUpdate"] }) => unwrap(api.PATCH("/api/v1/channel-mappings/{mapping_id}", { params: { path: { mapping_id: id } }, body }))),
    unmap: useAction((id: string) => unwrap(api.DELETE("/api/v1/channel-mappings/{mapping_id}", { params: { path: { mapping_id: id } } }))),
    retry: useAction(({ id, deadLetterId }: { id: string; deadLetterId: string }) => unwrap(api.POST("/api/v1/channel-connections/{connection_id}/dead-letters/{dead_letter_id}/retry", { params: { path: { connection_id: id, dead_letter_id: deadLetterId } } }))),
    resolve: useAction(({ id, body }: { id: string; body: ConflictResolve }) => unwrap(api.POST("/api/v1/channel-conflicts/{conflict_id}/resolve", { params: { path: { conflict_id: id } }, body }))),
  };
}

/** "2 min", "3 h": how far the platform is behind (null: nothing pending). */
export function lagText(seconds: number | null | undefined, locale: string): string | null {
  if (seconds === null || seconds === undefined) return null;
  const f = (n: number, unit: "second" | "minute" | "hour" | "day") => new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "short", maximumFractionDigits: 0 }).format(n);
  if (seconds < 90) return f(seconds, "second");
  if (seconds < 90 * 60) return f(seconds / 60, "minute");
  if (seconds < 36 * 3600) return f(seconds / 3600, "hour");
  return f(seconds / 86400, "day");
}
