/**
 * Event streams when a replica dies (issue 12, Pro events). Two real replicas; a client streams from the
 * leader while a run is in flight; the leader is SIGKILLed; the client reconnects to the survivor with the
 * last id it saw and gets exactly what a client that stayed on the survivor got after that id (the shared
 * log), up to the run's end under the new leader: no id twice, none skipped. Lite: the log survives a
 * restart, so a client resumes across it; a malformed Last-Event-ID is a 400, a missing token a 401.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePg } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";
import { startLeoflow, waitFor, waitForRun, type Leoflow } from "../e2e/harness";

interface Message {
  id: number;
  type: string;
  data: Record<string, any>;
}

/** Streams /api/v2/leoflow/events and parses messages as EventSource would; `messages` grows as they arrive. */
async function stream(url: string, token: string, lastEventId?: number) {
  const ctl = new AbortController();
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (lastEventId !== undefined) headers["last-event-id"] = String(lastEventId);
  const res = await fetch(`${url}/api/v2/leoflow/events`, { headers, signal: ctl.signal });
  const messages: Message[] = [];
  void (async () => {
    let text = "";
    const reader = res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
        let end: number;
        while ((end = text.indexOf("\n\n")) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const id = block.match(/^id: (\d+)$/m)?.[1];
          if (id)
            messages.push({
              id: Number(id),
              type: block.match(/^event: (.*)$/m)![1]!,
              data: JSON.parse(block.match(/^data: (.*)$/m)![1]!),
            });
        }
      }
    } catch {
      // aborted, or the replica died
    }
  })();
  const finished = (runId: string) =>
    waitFor(
      () => messages.some((m) => m.type === "dag_run.finished" && m.data.run_id === runId),
      60_000,
      () => `no dag_run.finished for ${runId} in ${JSON.stringify(messages.map((m) => [m.id, m.type, m.data.task_id, m.data.state]))}`,
    );
  return { res, messages, finished, close: () => ctl.abort() };
}

async function tokenFor(url: string): Promise<string> {
  const res = await fetch(`${url}/auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "e2e-admin-password" }),
  });
  return ((await res.json()) as { access_token: string }).access_token;
}

const ids = (ms: Message[]) => ms.map((m) => m.id);
const CHAIN = {
  dag_id: "ev_chain",
  schedule: null,
  tasks: ["a", "b", "c", "d"].map((t, i) => ({
    task_id: t,
    operator: "bash",
    bash_command: "sleep 0.3",
    upstream: i ? [["a", "b", "c"][i - 1]] : [],
  })),
};

describePg("Pro: the leader dies while a client streams from it", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-events-"));
  const cluster = new ProCluster({ dir, names: ["r1", "r2"] });
  beforeAll(async () => {
    mkdirSync(join(dir, "dags"));
    writeFileSync(join(dir, "dags", "ev_chain.json"), JSON.stringify(CHAIN));
    await cluster.start(join(dir, "dags"));
  }, 60_000);
  afterAll(() => cluster.stop());

  test("reconnecting to the survivor with Last-Event-ID loses nothing and repeats nothing", async () => {
    const [leader, survivor] = cluster.replicas as [Leoflow, Leoflow];
    const token = await tokenFor(survivor.url);
    const onLeader = await stream(leader.url, token);
    const stayed = await stream(survivor.url, token);
    expect((await survivor.api("POST", "/api/v2/dags/ev_chain/dagRuns", { dag_run_id: "k1", logical_date: null })).status).toBe(200);
    await waitFor(
      () => onLeader.messages.some((m) => m.data.task_id === "b" && m.data.state === "running"),
      30_000,
      () => "task b never ran",
    );
    leader.proc.kill("SIGKILL");
    await leader.proc.exited;
    cluster.alive.delete(leader.url);
    const seen = [...onLeader.messages];
    const last = seen.at(-1)!.id;

    const resumed = await stream(survivor.url, token, last);
    await resumed.finished("k1");
    await stayed.finished("k1");
    expect((await waitForRun(survivor, "ev_chain", "k1")).state).toBe("success");
    const after = stayed.messages.filter((m) => m.id > last);
    expect(ids(resumed.messages)).toEqual(ids(after));
    const all = [...seen, ...resumed.messages];
    expect(new Set(ids(all)).size).toBe(all.length);
    expect(ids(all)).toEqual([...ids(all)].sort((a, b) => a - b));
    // The whole run is there, across the two replicas and the change of leader.
    const finals = all.filter((m) => m.data.state === "success").map((m) => m.data.task_id ?? "run");
    expect(finals.sort()).toEqual(["a", "b", "c", "d", "run"]);
    for (const s of [onLeader, stayed, resumed]) s.close();
  }, 90_000);
});

describe("Lite: the event log", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-sec-events-lite-"));
  const dagsFrom = join(dir, "dags-src");
  mkdirSync(dagsFrom);
  writeFileSync(
    join(dagsFrom, "ev_chain.json"),
    JSON.stringify({ ...CHAIN, tasks: CHAIN.tasks.map((t) => ({ ...t, bash_command: "true" })) }),
  );
  let lf: Leoflow | undefined;
  afterAll(async () => void (await lf?.stop()));

  test("a client resumes across a restart with Last-Event-ID: exactly the events after it", async () => {
    lf = await startLeoflow({ dir: join(dir, "home"), dagsFrom });
    let token = await tokenFor(lf.url);
    const first = await stream(lf.url, token);
    await lf.api("POST", "/api/v2/dags/ev_chain/dagRuns", { dag_run_id: "l1", logical_date: null });
    await first.finished("l1");
    const cut = first.messages[4]!.id;
    const expected = ids(first.messages.filter((m) => m.id > cut));
    first.close();
    expect(await lf.stop()).toBe(0);

    lf = await startLeoflow({ dir: join(dir, "home"), dagsFrom });
    token = await tokenFor(lf.url);
    const resumed = await stream(lf.url, token, cut);
    await lf.api("POST", "/api/v2/dags/ev_chain/dagRuns", { dag_run_id: "l2", logical_date: null });
    await resumed.finished("l2");
    const got = ids(resumed.messages);
    expect(got.slice(0, expected.length)).toEqual(expected);
    expect(got.slice(expected.length).every((id) => id > expected.at(-1)!)).toBe(true);
    expect(resumed.messages.slice(expected.length).every((m) => m.data.run_id === "l2")).toBe(true);
    resumed.close();
  }, 60_000);

  test("a malformed Last-Event-ID is a 400 that says why; no token is a 401", async () => {
    const token = await tokenFor(lf!.url);
    for (const bad of ["-1", "1e3", "x", "99999999999999999999"]) {
      const res = await fetch(`${lf!.url}/api/v2/leoflow/events`, { headers: { authorization: `Bearer ${token}`, "last-event-id": bad } });
      expect([bad, res.status]).toEqual([bad, 400]);
      expect(((await res.json()) as { detail: string }).detail).toContain("non-negative integer");
    }
    expect((await fetch(`${lf!.url}/api/v2/leoflow/events`)).status).toBe(401);
  });
});
