/**
 * Who is logged in: the token from POST /auth/token, kept in sessionStorage so a reload keeps the tab
 * logged in (closing the tab forgets it; nothing goes to localStorage or a cookie). The role comes from
 * the token's claims (src/auth/user-tokens.ts signs `sub` and `role`); the server still checks every call.
 */

export type Role = "viewer" | "user" | "op" | "admin";
const ROLES: readonly Role[] = ["viewer", "user", "op", "admin"];

export interface Session {
  /** "" for a server that signs no one in (--auth=none): requests then go without a token. */
  token: string;
  username: string;
  role: Role;
  /** Expiry, seconds since the epoch. */
  exp: number;
  /** The server runs with --auth=none: nobody signs in, and there is nothing to log out of. */
  open?: boolean;
}

/**
 * The session of a server started with `--auth=none` (loopback only): every route is open and the caller acts as
 * an install admin (GET /api/v2/leoflow/me answers with no username), so the UI has no one to sign in.
 */
export const openSession = (): Session => ({
  token: "",
  username: "no sign-in (--auth=none)",
  role: "admin",
  exp: Number.MAX_SAFE_INTEGER,
  open: true,
});

/** The claims of a Leoflow user token; null when it is not one. Pure (no signature check: the server does that). */
export function sessionFromToken(token: string): Session | null {
  const payload = token.split(".")[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(
      atob(
        payload
          .replace(/-/g, "+")
          .replace(/_/g, "/")
          .padEnd(Math.ceil(payload.length / 4) * 4, "="),
      ),
    );
    if (typeof json.sub !== "string" || !ROLES.includes(json.role) || typeof json.exp !== "number") return null;
    return { token, username: json.sub, role: json.role, exp: json.exp };
  } catch {
    return null;
  }
}

/** What a role may do in the UI, mirroring src/auth/roles.ts (buttons that would 403 are not drawn). */
export function capabilities(role: Role | undefined) {
  const rank = role ? ROLES.indexOf(role) : -1;
  return {
    /** Trigger, clear, mark, notes. */
    editRuns: rank >= 1,
    /** Pause and unpause. */
    editDags: rank >= 1,
    /** Variables and connections (read and write), pool changes. */
    ops: rank >= 2,
    users: rank >= 3,
  };
}
export type Capabilities = ReturnType<typeof capabilities>;

const KEY = "leoflow.token";
let current: Session | null = null;
const listeners = new Set<() => void>();

export function getSession(): Session | null {
  return current;
}

/** What the sign-in page says when the server (or the clock) ended the session: the user did not log out. */
export const SESSION_EXPIRED = "Your session has expired — sign in again.";
let endedBecause: string | null = null;

/** Why the last session ended without the user logging out; null after a log-out or a new sign-in. */
export const sessionEndReason = (): string | null => endedBecause;

/** Ends the session because the server refused its token (401) or the token's time ran out. */
export function expireSession(): void {
  if (!current || current.open) return;
  endedBecause = SESSION_EXPIRED;
  setSession(null);
}

/** Milliseconds until `s` expires, for a timer (null: never, or too far for one). Pure. */
export function msUntilExpiry(s: Session, nowMs: number): number | null {
  if (s.open) return null;
  const ms = s.exp * 1000 - nowMs;
  return ms > 2 ** 31 - 1 ? null : Math.max(0, ms);
}

export function setSession(s: Session | null): void {
  if (s) endedBecause = null;
  current = s;
  try {
    // An open session is asked of the server again on each load: it is not a token to keep.
    if (s?.token) sessionStorage.setItem(KEY, s.token);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage refused (private mode): the session lives in memory for this page only.
  }
  for (const l of listeners) l();
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The session kept by this tab, unless it has expired. */
export function restoreSession(nowSeconds: number): Session | null {
  let token: string | null = null;
  try {
    token = sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
  const s = token ? sessionFromToken(token) : null;
  current = s && s.exp > nowSeconds ? s : null;
  if (s && !current) endedBecause = SESSION_EXPIRED;
  return current;
}
