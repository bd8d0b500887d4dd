/**
 * Pro events (issue 12): two real replicas on one Postgres schema. A run triggered through the follower is
 * scheduled by the leader and its tasks report through the load balancer (either replica), so its events
 * originate on both; the event stream of EACH replica carries all of them, with the same increasing ids. A
 * client that disconnects and reconnects to the other replica with Last-Event-ID gets exactly the events
 * after it (replayed from the shared log), then live ones: none twice, none missing.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describePg } from "../support/postgres";
import { ProCluster } from "../support/pro-cluster";
import { waitFor, type Leoflow } from "../e2e/harness";

/** created, started, 4 states of a, 4 of b, finished. */
const EVENTS_PER_RUN = 11;

interface Message {
  id: number;
  type: string;
  data: Record<string, any>;
}

/** An open SSE stream: every message received so far, parsed as a browser's EventSource would. */
class Stream {
  messages: Message[] = [];
  private text = "";
  private constructor(
    readonly res: Response,
    private readonly abort: AbortController,
  ) {}

  static async open(url: string, token: string, headers: Record<string, string> = {}): Promise<Stream> {
    const ctl = new AbortController();
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: ctl.signal });
    const s = new Stream(res, ctl);
    if (res.ok) void s.pump();
    return s;
  }

  private async pump(): Promise<void> {
    const reader = this.res.body!.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        this.text += new TextDecoder().decode(value);
        let end: number;
        while ((end = this.text.indexOf("\n\n")) >= 0) {
          const block = this.text.slice(0, end);
          this.text = this.text.slice(end + 2);
          const field = (name: string) => block.match(new RegExp(`^${name}: (.*)$`, "m"))?.[1];
          const id = field("id");
          if (id !== undefined) this.messages.push({ id: Number(id), type: field("event")!, data: JSON.parse(field("data")!) });
        }
      }
    } catch {
      // closed by the test
    }
  }

  /**
   * The messages of one run, once all of them have arrived. Not "once dag_run.finished has": the leader may
   * append the run's end before the replica that took b's report appends b's success (ids follow append
   * order across replicas, not cause), so the finish can come before another event of the run. `count`: how
   * many of the run's events this stream is due (fewer when it resumed mid-run).
   */
  async runEvents(runId: string, count = EVENTS_PER_RUN): Promise<Message[]> {
    return waitFor(
      () => {
        const mine = this.messages.filter((m) => m.data.run_id === runId);
        return mine.length >= count && mine.some((m) => m.type === "dag_run.finished") ? mine : null;
      },
      30_000,
      () =>
        `not all ${count} events of ${runId}; got:\n${this.messages.map((m) => `${m.id} ${m.type} ${m.data.task_id ?? ""} ${m.data.state ?? ""}`).join("\n")}`,
    );
  }

  close(): void {
    this.abort.abort();
  }
}

/** What a user reads off an event: its type, task and state. */
const label = (m: Message) => [m.type, m.data.task_id, m.data.state].filter(Boolean).join(" ");
const increasing = (ids: number[]) => ids.every((id, i) => i === 0 || id > ids[i - 1]!);

describePg("Pro: every replica streams every replica's events, resumable on any replica", () => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-pro-events-"));
  const cluster = new ProCluster({ dir, names: ["r1", "r2"] });
  let leader: Leoflow;
  let follower: Leoflow;
  let token: string;
  const streams: Stream[] = [];
  const open = async (lf: Leoflow, query: string, headers?: Record<string, string>) => {
    const s = await Stream.open(`${lf.url}/api/v2/leoflow/events?${query}`, token, headers);
    streams.push(s);
    return s;
  };
  const trigger = async (via: Leoflow, runId: string) =>
    expect((await via.api("POST", "/api/v2/dags/pro_ev/dagRuns", { dag_run_id: runId, logical_date: null })).status).toBe(200);

  beforeAll(async () => {
    const dags = join(dir, "dags");
    mkdirSync(dags);
    writeFileSync(
      join(dags, "pro_ev.json"),
      JSON.stringify({
        dag_id: "pro_ev",
        schedule: null,
        tasks: [
          { task_id: "a", operator: "bash", bash_command: "true" },
          { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
        ],
      }),
    );
    // A run that outlasts the start of a wait on it.
    writeFileSync(
      join(dags, "pro_wait.json"),
      JSON.stringify({ dag_id: "pro_wait", schedule: null, tasks: [{ task_id: "nap", operator: "bash", bash_command: "sleep 1" }] }),
    );
    await cluster.start(dags);
    [leader, follower] = cluster.replicas as [Leoflow, Leoflow];
    const res = await fetch(`${follower.url}/auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "admin", password: "e2e-admin-password" }),
    });
    token = ((await res.json()) as { access_token: string }).access_token;
  }, 60_000);

  afterAll(async () => {
    for (const s of streams) s.close();
    await cluster.stop();
  });

  test("the follower's health reports the cluster's scheduler from the leader's shared heartbeat, not healthy with none", async () => {
    // A frozen leader was invisible: every follower said healthy with latest_scheduler_heartbeat null.
    const health = async (lf: Leoflow) => (await fetch(`${lf.url}/api/v2/monitor/health`).then((r) => r.json())).scheduler;
    const seen = await waitFor(
      async () => {
        const h = await health(follower);
        return h.latest_scheduler_heartbeat ? h : null;
      },
      15_000,
      () => "the follower never reported the leader's heartbeat",
    );
    expect(seen.status).toBe("healthy");
    const lead = await health(leader);
    expect(Date.parse(lead.latest_scheduler_heartbeat) - Date.parse(seen.latest_scheduler_heartbeat)).toBeLessThan(15_000);
  });

  test("the follower's stream carries the run's events from every replica; both replicas agree on ids", async () => {
    const onFollower = await open(follower, "dag_id=pro_ev");
    const onLeader = await open(leader, "dag_id=pro_ev");
    await trigger(follower, "ev-1");
    const seen = await onFollower.runEvents("ev-1");
    expect(seen.map(label).sort()).toEqual(
      [
        "dag_run.created queued",
        "dag_run.started running",
        ...["a", "b"].flatMap((t) => ["scheduled", "queued", "running", "success"].map((s) => `task_instance.state_changed ${t} ${s}`)),
        "dag_run.finished success",
      ].sort(),
    );
    expect(increasing(seen.map((m) => m.id))).toBe(true);
    // The leader's own scheduling (run started, tasks scheduled and queued) reached the follower.
    expect(follower.output()).not.toContain("became scheduler leader");
    // One log, one numbering: the leader's stream is the same sequence, id for id.
    const fromLeader = await onLeader.runEvents("ev-1");
    expect(fromLeader.map((m) => [m.id, label(m)])).toEqual(seen.map((m) => [m.id, label(m)]));
  }, 60_000);

  test("a wait on the follower answers when the leader ends the run, not at its next interval (an hour)", async () => {
    expect((await follower.api("POST", "/api/v2/dags/pro_wait/dagRuns", { dag_run_id: "w-1", logical_date: null })).status).toBe(200);
    const waited = await follower.api<unknown>("GET", "/api/v2/dags/pro_wait/dagRuns/w-1/wait?interval=3600");
    expect(waited.status).toBe(200);
    const lines = (
      typeof waited.body === "string"
        ? waited.body
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l))
        : [waited.body]
    ) as { state: string }[];
    // The first line came before the end (the run was still going), the last one with it.
    expect(lines.map((l) => l.state)).toEqual([lines[0]!.state, "success"]);
    expect(["queued", "running"]).toContain(lines[0]!.state);
    // The leader wrote the end: the follower learnt it from the shared event log.
    expect(follower.output()).not.toContain("became scheduler leader");
  }, 30_000);

  test("disconnect, reconnect to the OTHER replica with Last-Event-ID: exactly the events after it, then live ones", async () => {
    const first = await open(follower, "dag_id=pro_ev");
    await trigger(leader, "ev-2");
    const all = await first.runEvents("ev-2");
    first.close();
    const cut = all[3]!.id; // the client saw up to here
    const expected = all.filter((m) => m.id > cut);

    const resumed = await open(leader, "dag_id=pro_ev", { "last-event-id": String(cut) });
    expect(resumed.res.status).toBe(200);
    await resumed.runEvents("ev-2", expected.length);
    await trigger(follower, "ev-3"); // after the replay, events arrive live on the same stream
    const live = await resumed.runEvents("ev-3");
    const got = resumed.messages;
    expect(got.filter((m) => m.data.run_id === "ev-2").map((m) => [m.id, label(m)])).toEqual(expected.map((m) => [m.id, label(m)]));
    expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
    expect(increasing(got.map((m) => m.id))).toBe(true);
    expect(live[0]!.id).toBeGreaterThan(all.at(-1)!.id);

    // The query parameter resumes the same way, on the follower this time.
    const viaQuery = await open(follower, `dag_id=pro_ev&last_event_id=${cut}`);
    await viaQuery.runEvents("ev-3");
    expect(viaQuery.messages.map((m) => m.id)).toEqual(got.map((m) => m.id));
  }, 60_000);

  test("a Last-Event-ID that is not an event id is a 400 that says why", async () => {
    const res = await fetch(`${follower.url}/api/v2/leoflow/events`, {
      headers: { authorization: `Bearer ${token}`, "last-event-id": "abc" },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toContain("Last-Event-ID");
  });
});
