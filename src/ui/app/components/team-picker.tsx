/** @jsxImportSource preact */
/**
 * The team picker in the header and what it needs: GET /leoflow/me for the user's teams and their role in
 * the chosen one (the role the UI draws buttons for), and for an install admin GET /leoflow/teams. Shown
 * only when there is more than one team to choose. Without /me (an older server) the token's role stands.
 */
import { useEffect, useState } from "preact/hooks";
import { ApiError, api } from "../api";
import { type Me, teamChoices, uiRole } from "../me";
import { navigate } from "../router";
import { getSession, setSession } from "../session";
import { chooseTeam, getTeam, onTeamChange } from "../team";

export function useTeam(): string | null {
  const [team, setTeamState] = useState(getTeam);
  useEffect(() => onTeamChange(() => setTeamState(getTeam())), []);
  return team;
}

/** Who the user is in the chosen team; re-read when the login or the team changes. */
export function useMe(token: string, team: string | null): { me: Me; teams: string[] } | null {
  const [state, setState] = useState<{ me: Me; teams: string[] } | null>(null);
  useEffect(() => {
    const ctl = new AbortController();
    void (async () => {
      try {
        const me = await api<Me>("GET", "/leoflow/me", undefined, ctl.signal);
        const teams = me.install_admin
          ? (await api<{ teams: { name: string }[] }>("GET", "/leoflow/teams?limit=1000", undefined, ctl.signal)).teams.map((t) => t.name)
          : [];
        if (ctl.signal.aborted) return;
        setState({ me, teams });
        const role = uiRole(me.role);
        const s = getSession();
        if (role && s && s.role !== role) setSession({ ...s, role });
      } catch (e) {
        if (ctl.signal.aborted) return;
        // The chosen team is gone or no longer this user's (the server answers 404 for it): back to their default.
        if (e instanceof ApiError && e.status === 404 && team) chooseTeam(null);
      }
    })();
    return () => ctl.abort();
  }, [token, team]);
  return state;
}

export function TeamPicker({ me, teams }: { me: Me; teams: string[] }) {
  const choices = teamChoices(me, teams);
  if (choices.length < 2) return null;
  return (
    <label class="team-picker">
      Team{" "}
      <select
        value={me.team}
        onChange={(e) => {
          chooseTeam(e.currentTarget.value);
          // The page in view belongs to the old team; its DAGs, runs and pools are not the new team's.
          navigate("/dags");
        }}
      >
        {choices.map((t) => (
          <option key={t} value={t}>
            {t}
          </option>
        ))}
      </select>
    </label>
  );
}
