/**
 * The team the tab acts in: sent as `Leoflow-Team` on every request (api.ts), kept in sessionStorage so a
 * reload stays in it, forgotten on logout (the next user of the tab starts in their own default team).
 */
import { setTeam } from "./api";
import { getSession, onSessionChange } from "./session";

const KEY = "leoflow.team";
let current: string | null = null;
const listeners = new Set<() => void>();

export function getTeam(): string | null {
  return current;
}

export function chooseTeam(name: string | null): void {
  if (name === current) return;
  current = name;
  setTeam(name);
  try {
    if (name) sessionStorage.setItem(KEY, name);
    else sessionStorage.removeItem(KEY);
  } catch {
    // Storage refused (private mode): the choice lasts for this page only.
  }
  for (const l of listeners) l();
}

export function onTeamChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The team this tab chose before a reload; from then on a logout forgets it. */
export function restoreTeam(): void {
  try {
    current = sessionStorage.getItem(KEY) || null;
  } catch {
    current = null;
  }
  setTeam(current);
  onSessionChange(() => {
    if (!getSession()) chooseTeam(null);
  });
}
