/** @jsxImportSource preact */
/** The login page: POST /auth/token, then back to where the user was going. */
import { useState } from "preact/hooks";
import { login } from "../api";
import { ErrorBox } from "../components/common";
import { navigate } from "../router";
import { sessionFromToken, setSession } from "../session";

export function LoginPage() {
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
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
      const next = new URLSearchParams(location.search).get("next");
      navigate(next?.startsWith("/") && !next.startsWith("//") ? next : "/dags", true);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login" id="main">
      <form class="card" onSubmit={submit}>
        <h1>Leoflow</h1>
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
