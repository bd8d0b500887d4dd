/** @jsxImportSource preact */
/** The login page: POST /auth/token, then back to where the user was going (saying why, when a session expired). */
import { useEffect, useState } from "preact/hooks";
import { API, login } from "../api";
import { ErrorBox } from "../components/common";
import { navigate } from "../router";
import { openSession, sessionEndReason, sessionFromToken, setSession } from "../session";

/** Where the login was going (`?next=`), kept on this site. */
const nextPath = (): string => {
  const next = new URLSearchParams(location.search).get("next");
  return next?.startsWith("/") && !next.startsWith("//") ? next : "/dags";
};

export function LoginPage() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  // A server started with --auth=none answers GET …/leoflow/me without a token (no username): nobody signs in.
  const [checking, setChecking] = useState(true);
  useEffect(() => {
    const ctl = new AbortController();
    fetch(`${API}/leoflow/me`, { headers: { accept: "application/json" }, signal: ctl.signal })
      .then(async (res) => {
        const me = res.ok ? ((await res.json()) as { username?: string | null }) : null;
        if (me && me.username === null) {
          setSession(openSession());
          navigate(nextPath(), true);
        }
      })
      .catch(() => {})
      .finally(() => ctl.signal.aborted || setChecking(false));
    return () => ctl.abort();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      const token = await login(String(form.get("username") ?? ""), String(form.get("password") ?? ""));
      const s = sessionFromToken(token);
      if (!s) throw new Error("the server's token has no username or role; is this a Leoflow server?");
      setSession(s);
      navigate(nextPath(), true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (checking) return <main class="login" id="main" aria-busy="true" />;
  return (
    <main class="login" id="main">
      <form class="card" onSubmit={submit}>
        <h1>Leoflow</h1>
        {sessionEndReason() ? (
          <p class="notice warn" role="alert">
            {sessionEndReason()}
          </p>
        ) : null}
        <p class="muted">Sign in with your Leoflow user (the first admin's password is LEOFLOW_ADMIN_PASSWORD).</p>
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required autofocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <ErrorBox error={error} title="Sign-in failed" />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
