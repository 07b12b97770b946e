"use client";
// Who is signed in, in which agency and with which role; sign-in, sign-out and agency switch.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { createContext, useCallback, useContext, useEffect, useMemo, useState, useSyncExternalStore, type ReactNode } from "react";
import { api, unwrap } from "@/api/client";
import type { components } from "@/api/schema";
import * as session from "./session";
import { can as roleCan, type Permission, type Role } from "./permissions";

type Me = components["schemas"]["Me"];

type Auth = {
  status: "loading" | "signed-out" | "signed-in";
  me: Me | undefined;
  agencyId: string | null;
  role: Role | null;
  can: (p: Permission) => boolean;
  signIn: (tokens: session.Tokens) => Promise<void>;
  signOut: () => Promise<void>;
  switchAgency: (id: string) => void;
};

const AuthContext = createContext<Auth | null>(null);

function useSessionVersion(): number {
  const [version, setVersion] = useState(0);
  useEffect(() => session.subscribe(() => setVersion((v) => v + 1)), []);
  return version;
}

const noop = () => () => {};

export function AuthProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const version = useSessionVersion();
  const mounted = useSyncExternalStore(noop, () => true, () => false);
  const [checked, setChecked] = useState(false);
  const [hasTokens, setHasTokens] = useState(false);

  useEffect(() => {
    // A reload: the refresh token in storage signs in silently.
    let live = true;
    void session.accessToken().then((t) => {
      if (!live) return;
      setHasTokens(t !== null);
      setChecked(true);
    });
    return () => {
      live = false;
    };
  }, [version]);

  const me = useQuery({
    queryKey: ["me"],
    queryFn: () => unwrap(api.GET("/api/v1/me")),
    enabled: hasTokens,
    staleTime: 60_000,
  });

  const memberships = me.data?.memberships ?? [];
  const stored = mounted ? session.agencyId() : null;
  const current = memberships.find((m) => m.agency_id === stored) ?? memberships[0];
  const agencyId = current?.agency_id ?? null;
  const role = (current?.role ?? null) as Role | null;

  useEffect(() => {
    if (agencyId && agencyId !== session.agencyId()) session.setAgencyId(agencyId);
  }, [agencyId]);

  const signIn = useCallback(
    async (tokens: session.Tokens) => {
      qc.clear();
      session.store(tokens);
      setHasTokens(true);
      await qc.fetchQuery({ queryKey: ["me"], queryFn: () => unwrap(api.GET("/api/v1/me")) });
    },
    [qc],
  );

  const signOut = useCallback(async () => {
    await api.POST("/api/v1/auth/logout").catch(() => undefined);
    session.clear();
    setHasTokens(false);
    qc.clear();
  }, [qc]);

  const switchAgency = useCallback(
    (id: string) => {
      // Nothing of the previous agency may remain on screen: drop every cached answer.
      session.setAgencyId(id);
      const meData = qc.getQueryData(["me"]);
      qc.clear();
      if (meData) qc.setQueryData(["me"], meData);
    },
    [qc],
  );

  const status: Auth["status"] = !checked ? "loading" : !hasTokens || me.isError ? "signed-out" : me.data ? "signed-in" : "loading";
  const value = useMemo<Auth>(
    () => ({ status, me: me.data, agencyId, role, can: (p) => roleCan(role, p), signIn, signOut, switchAgency }),
    [status, me.data, agencyId, role, signIn, signOut, switchAgency],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): Auth {
  const ctx = useContext(AuthContext);
  if (!ctx) throw new Error("useAuth outside AuthProvider");
  return ctx;
}
