"use client";
// The agency's live event stream: each event marks the reads it touches as stale, so another
// member's change shows without a reload.
import { useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import * as session from "@/auth/session";
import { follow } from "@/lib/sse";
import { staleBy, type Resource } from "./keys";

export function useLiveEvents(agencyId: string | null, enabled: boolean): "connecting" | "live" {
  const qc = useQueryClient();
  const [state, setState] = useState<"connecting" | "live">("connecting");
  useEffect(() => {
    if (!agencyId || !enabled) return;
    const abort = new AbortController();
    void follow({
      url: "/api/v1/events/stream",
      signal: abort.signal,
      headers: async () => {
        const token = await session.accessToken();
        return token ? { authorization: `Bearer ${token}`, "x-agency-id": agencyId } : null;
      },
      onOpen: () => setState("live"),
      onEvent: (e) => {
        if (e.event === "reset") {
          void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === agencyId });
          return;
        }
        const stale = new Set<Resource>(staleBy(e.event));
        if (stale.size === 0) return;
        void qc.invalidateQueries({ predicate: (q) => q.queryKey[0] === agencyId && stale.has(q.queryKey[1] as Resource) });
      },
    });
    return () => {
      abort.abort();
      setState("connecting");
    };
  }, [agencyId, enabled, qc]);
  return state;
}
