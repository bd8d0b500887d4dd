/**
 * The client's team: `--team`, LEOFLOW_TEAM and `login --team` decide the Leoflow-Team header every call
 * sends, and the server's refusal of a team is printed as the server said it. Against a scripted server (a
 * fetch double), with the credentials file in a temporary folder.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ClientIo, runClient } from "../../../src/cli/client";

const SERVER = "http://leoflow.test";

/** A server with one user, mia: Op in alpha; team beta exists but she has no role there, so it is her 404. */
function server(env: Record<string, string> = {}) {
  const calls: { path: string; team: string | null; auth: string | null }[] = [];
  const io: ClientIo & { stdout: string; stderr: string } = {
    stdout: "",
    stderr: "",
    out: (t) => void (io.stdout += t),
    err: (t) => void (io.stderr += t),
    env: { XDG_CONFIG_HOME: mkdtempSync(join(tmpdir(), "leoflow-cli-teams-")), ...env },
    home: "/nonexistent",
    columns: undefined,
    readStdin: async () => "mia-password\n",
    askPassword: null,
    sleep: async () => {},
    fetch: async (input, init = {}) => {
      const url = new URL(input);
      const headers = init.headers as Record<string, string>;
      const team = headers["Leoflow-Team"] ?? null;
      calls.push({ path: `${init.method ?? "GET"} ${url.pathname}`, team, auth: headers.authorization ?? null });
      if (url.pathname === "/auth/token") return Response.json({ access_token: "mia-token" }, { status: 201 });
      if (team !== null && team !== "alpha") return Response.json({ detail: `Team "${team}" not found` }, { status: 404 });
      if (url.pathname === "/api/v2/leoflow/me")
        return Response.json({ username: "mia", team: "alpha", role: "Op", roles: [{ team: "alpha", role: "Op" }], install_admin: false });
      if (url.pathname === "/api/v2/dags") return Response.json({ dags: [{ dag_id: "etl", is_paused: false }], total_entries: 1 });
      return Response.json({ detail: "no such route" }, { status: 404 });
    },
  };
  const stored = () => JSON.parse(readFileSync(join(io.env.XDG_CONFIG_HOME ?? "", "leoflow", "credentials.json"), "utf8"));
  return { io, calls, stored };
}

describe("the client's team", () => {
  test("login --team checks the team with the server, keeps it with the token, and later commands act in it", async () => {
    const { io, calls, stored } = server();
    expect(await runClient(["login", "--server", SERVER, "-u", "mia", "--team", "alpha", "--password-stdin"], io)).toBe(0);
    expect(io.stdout).toStartWith(`logged in to ${SERVER} as mia in team alpha (Op); token saved in `);
    expect(stored().servers[SERVER]).toMatchObject({ token: "mia-token", username: "mia", team: "alpha" });
    expect(await runClient(["dags", "list"], io)).toBe(0);
    expect(io.stdout).toContain("etl");
    expect(calls.map((c) => [c.path, c.team])).toEqual([
      ["POST /auth/token", null],
      ["GET /api/v2/leoflow/me", "alpha"],
      ["GET /api/v2/dags", "alpha"],
    ]);
  });

  test("login --team with a team the user may not act in stores nothing and prints the server's 404", async () => {
    const { io } = server();
    expect(await runClient(["login", "--server", SERVER, "-u", "mia", "--team", "beta", "--password-stdin"], io)).toBe(1);
    expect(io.stderr).toBe('leoflow login: Team "beta" not found\n');
    expect(await runClient(["dags", "list"], io)).toBe(2); // no server was remembered
  });

  test("--team beats LEOFLOW_TEAM beats the team stored at login; without any, no header", async () => {
    const { io, calls } = server();
    await runClient(["login", "--server", SERVER, "-u", "mia", "--team", "alpha", "--password-stdin"], io);
    calls.length = 0;
    expect(await runClient(["dags", "list", "--team", "beta"], io)).toBe(1);
    expect(io.stderr).toBe('leoflow dags list: Team "beta" not found\n');
    io.env.LEOFLOW_TEAM = "beta";
    expect(await runClient(["variables", "list"], io)).toBe(1);
    expect(await runClient(["dags", "list", "--team", "alpha"], io)).toBe(0);
    expect(calls.map((c) => c.team)).toEqual(["beta", "beta", "alpha"]);

    // LEOFLOW_TOKEN may be another user's: the team stored with the file's token is not sent with it.
    const bare = server({ LEOFLOW_SERVER: SERVER, LEOFLOW_TOKEN: "other" });
    expect(await runClient(["dags", "list"], bare.io)).toBe(0);
    expect(bare.calls[0]).toEqual({ path: "GET /api/v2/dags", team: null, auth: "Bearer other" });
  });

  test("an empty --team is a usage error", async () => {
    const { io } = server({ LEOFLOW_SERVER: SERVER });
    expect(await runClient(["runs", "list", "etl", "--team", " "], io)).toBe(2);
    expect(io.stderr).toContain("runs list: --team is empty");
  });
});
