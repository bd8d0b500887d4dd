/** @jsxImportSource preact */
/** The shell: login gate, navigation by role, the health banner, the one event stream, and the page for the URL. */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api";
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
import { capabilities, setSession, type Session } from "./session";
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

/** Polls /monitor/health (open, cheap); shows a banner only while something is unhealthy. */
function HealthBanner() {
  const [health, setHealth] = useState<Health | null>(null);
  const check = () =>
    api<Health>("GET", "/monitor/health").then(setHealth, () =>
      setHealth({ metadatabase: { status: "unreachable" }, scheduler: { status: null, latest_scheduler_heartbeat: null } }),
    );
  useEffect(() => void check(), []);
  useInterval(check, 15_000);
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
