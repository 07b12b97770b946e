// The signed-in session in the browser: the short access token in this tab's sessionStorage (a
// reload needs no refresh round trip before its first request), the rotating refresh token and
// the chosen agency in localStorage (a new tab signs in silently).
export type Tokens = { access_token: string; refresh_token: string; expires_in: number };

type Listener = () => void;

const REFRESH_KEY = "pms.refresh";
const AGENCY_KEY = "pms.agency";
const ACCESS_KEY = "pms.access";
// Refresh this long before the access token expires, so no request meets an expired one.
const EARLY_MS = 30_000;

let access: { token: string; expiresAt: number } | null = null;
let inflight: Promise<boolean> | null = null;
const listeners = new Set<Listener>();

function storage(): Storage | null {
  return typeof window === "undefined" ? null : window.localStorage;
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const l of listeners) l();
}

function tabStorage(): Storage | null {
  return typeof window === "undefined" ? null : window.sessionStorage;
}

function restoreAccess(): void {
  if (access) return;
  const saved = tabStorage()?.getItem(ACCESS_KEY);
  if (!saved) return;
  try {
    access = JSON.parse(saved) as { token: string; expiresAt: number };
  } catch {
    tabStorage()?.removeItem(ACCESS_KEY);
  }
}

export function store(tokens: Tokens, now = Date.now()): void {
  access = { token: tokens.access_token, expiresAt: now + tokens.expires_in * 1000 };
  tabStorage()?.setItem(ACCESS_KEY, JSON.stringify(access));
  storage()?.setItem(REFRESH_KEY, tokens.refresh_token);
  notify();
}

export function clear(): void {
  access = null;
  tabStorage()?.removeItem(ACCESS_KEY);
  storage()?.removeItem(REFRESH_KEY);
  notify();
}

export function hasSession(): boolean {
  return access !== null || !!storage()?.getItem(REFRESH_KEY);
}

export function agencyId(): string | null {
  return storage()?.getItem(AGENCY_KEY) ?? null;
}

export function setAgencyId(id: string): void {
  storage()?.setItem(AGENCY_KEY, id);
  notify();
}

/** Exchange the stored refresh token for a new pair; one exchange at a time (the API rotates the
 * refresh token, and reusing an old one revokes the whole session). */
export function refresh(baseUrl = ""): Promise<boolean> {
  if (inflight) return inflight;
  const token = storage()?.getItem(REFRESH_KEY);
  if (!token) return Promise.resolve(false);
  inflight = (async () => {
    try {
      const res = await fetch(`${baseUrl}/api/v1/auth/refresh`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ refresh_token: token }),
      });
      if (!res.ok) {
        if (res.status === 401) clear();
        return false;
      }
      store((await res.json()) as Tokens);
      return true;
    } catch {
      return false;
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

/** A current access token, refreshed first when it is missing or about to expire. */
export async function accessToken(now = Date.now()): Promise<string | null> {
  restoreAccess();
  if (access && access.expiresAt - EARLY_MS > now) return access.token;
  if (await refresh()) return access?.token ?? null;
  return null;
}
