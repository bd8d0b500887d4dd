/** @jsxImportSource preact */
/** The shell: login gate, navigation by role, the health banner, the one event stream, and the page for the URL. */
import { useEffect, useState } from "preact/hooks";
import { api, ApiError } from "./api";
import { Link } from "./components/link";
import { TeamPicker, useMe, useTeam } from "./components/team-picker";
import { useInterval, useRoute, useSession } from "./hooks";
import { ConnectionsPage } from "./pages/connections";
import { DagListPage } from "./pages/dag-list";
import { DagPage } from "./pages/dag";
import { LoginPage } from "./pages/login";
import { PoolsPage } from "./pages/pools";
import { AuditPage } from "./pages/audit";
import { UsersPage } from "./pages/users";
import { VariablesPage } from "./pages/variables";
import { navigate, type Route } from "./router";
import { isUnreachable, onReachabilityChange } from "./reachability";
import { capabilities, expireSession, msUntilExpiry, setSession, type Session } from "./session";
import { dispatchEvent, openEventStream } from "./sse";

export function App() {
  const session = useSession();
  const route = useRoute();
  useEffect(() => {
    if (!session && route.page !== "login") {
      const back = location.pathname + location.search;
      navigate(back === "/" ? "/login" : `/login?next=${encodeURIComponent(back)}`, true);
    }
  }, [session, route.page]);
  if (!session || route.page === "login") return <LoginPage />;
  return <Shell session={session} route={route} />;
}

function Shell({ session, route }: { session: Session; route: Route }) {
  const can = capabilities(session.role);
  const team = useTeam();
  const me = useMe(session.token, team);
  const [live, setLive] = useState(false);
  // The token's time runs out while the page is open: say so at once, not at the next refused request.
  useEffect(() => {
    const ms = msUntilExpiry(session, Date.now());
    if (ms === null) return;
    const t = setTimeout(expireSession, ms);
    return () => clearTimeout(t);
  }, [session]);
  // One stream per login and team: the server sends only the chosen team's events.
  useEffect(() => {
    const ctl = new AbortController();
    openEventStream(dispatchEvent, setLive, ctl.signal);
    return () => ctl.abort();
  }, [session.token, team]);
  const nav = [
    { href: "/dags", label: "DAGs", on: route.page === "dags" || route.page === "dag" },
    ...(can.ops ? [{ href: "/variables", label: "Variables", on: route.page === "variables" }] : []),
    ...(can.ops ? [{ href: "/connections", label: "Connections", on: route.page === "connections" }] : []),
    { href: "/pools", label: "Pools", on: route.page === "pools" },
    ...(can.users ? [{ href: "/users", label: "Users", on: route.page === "users" }] : []),
    ...(can.users ? [{ href: "/audit", label: "Audit log", on: route.page === "audit" }] : []),
  ];
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href="/dags" class="brand">
          Leoflow
        </Link>
        <nav aria-label="Main">
          {nav.map((n) => (
            <Link key={n.href} href={n.href} class={n.on ? "on" : ""} aria-current={n.on ? "page" : undefined}>
              {n.label}
            </Link>
          ))}
        </nav>
        <span class={`live ${live ? "up" : "down"}`} title={live ? "Live updates on" : "Live updates reconnecting"}>
          {live ? "live" : "offline"}
        </span>
        {me ? <TeamPicker me={me.me} teams={me.teams} /> : null}
        <span class="who" data-testid="who">
          {session.username} · {session.role}
        </span>
        {session.open ? null : (
          <button type="button" class="ghost" onClick={() => setSession(null)}>
            Log out
          </button>
        )}
      </header>
      <HealthBanner />
      <main id="main">
        {/* Keyed by team: a new team draws every page afresh from its own data. */}
        <Page key={team ?? ""} route={route} />
      </main>
    </div>
  );
}

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case "dags":
      return <DagListPage />;
    case "dag":
      return <DagPage route={route} />;
    case "variables":
      return <VariablesPage />;
    case "connections":
      return <ConnectionsPage />;
    case "pools":
      return <PoolsPage />;
    case "users":
      return <UsersPage />;
    case "audit":
      return <AuditPage />;
    default:
      return (
        <section class="page">
          <h1>Page not found</h1>
          <p>
            Nothing lives at <code>{route.page === "not_found" ? route.path : ""}</code>. <Link href="/dags">Go to the DAGs</Link>.
          </p>
        </section>
      );
  }
}

interface Health {
  metadatabase: { status: string };
  scheduler: { status: string | null; latest_scheduler_heartbeat: string | null };
}

/** The server answered 503: it runs but cannot reach its database (src/api/errors.ts). */
const DATABASE_DOWN: Health = { metadatabase: { status: "unreachable" }, scheduler: { status: null, latest_scheduler_heartbeat: null } };

/**
 * Polls /monitor/health (open, cheap); shows a banner only while something is unhealthy. No answer at all (from
 * this poll or any other request) is the server out of reach, not its database: polled every few seconds then,
 * and the banner goes with the first answer.
 */
function HealthBanner() {
  const [health, setHealth] = useState<Health | null>(null);
  const [unreachable, setUnreachable] = useState(isUnreachable);
  useEffect(() => onReachabilityChange(() => setUnreachable(isUnreachable())), []);
  const check = () =>
    api<Health>("GET", "/monitor/health").then(setHealth, (e) => {
      if (e instanceof ApiError && e.status === 503) setHealth(DATABASE_DOWN);
    });
  useEffect(() => void check(), []);
  useInterval(check, unreachable ? 3_000 : 15_000);
  if (unreachable)
    return (
      <div class="banner bad" role="alert">
        Cannot reach the Leoflow server: it may be stopped or restarting, or the network is down. This page tries again every few seconds
        and updates once it answers.
      </div>
    );
  if (!health) return null;
  const problems: string[] = [];
  if (health.metadatabase.status !== "healthy") problems.push(`the metadata database is ${health.metadatabase.status}`);
  if (health.scheduler.status && health.scheduler.status !== "healthy")
    problems.push(
      `the scheduler is ${health.scheduler.status} (last heartbeat ${health.scheduler.latest_scheduler_heartbeat ?? "never"}; in Pro, no replica may hold the leader lock)`,
    );
  if (!problems.length) return null;
  return (
    <div class="banner bad" role="alert">
      Tasks may not be scheduled: {problems.join("; ")}. Check the server's log.
    </div>
  );
}
