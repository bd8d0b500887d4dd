/**
 * Floor: the same chain done by hand with the minimum work a hop needs — one commit that marks the upstream
 * done and the downstream running (one SQLite transaction; one Postgres round trip), plus, for http tasks, one
 * local HTTP request to a server that answers at once (the downstream's request; `fetch`, as inline tasks make it),
 * and for subprocess tasks one spawn of the agent binary to exit (`dist/leoflow version`, the cheapest start of
 * the binary the agent is). The commit alone and `bash -c true` are shown beside them. Chain rows name their
 * floor row by subject.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import postgres from "postgres";
import { skippedRow, type BenchContext, type Workload } from "../lib/context";
import { BINARY, noopServer, removeDir, tempDir, httpTaskWork } from "../lib/leoflow";
import type { Row } from "../lib/stats";
import { BASH_BACK_TO_BACK, USER_HOP, backToBackBash, floorSubject, HOP, nowMs, TOTAL } from "./chain";

const WORKLOAD = "floor";

/** Commits one hop: upstream success, downstream running, in one statement and one transaction. */
type Commit = (upstream: number, downstream: number) => Promise<void> | void;

async function spawnToExit(argv: string[]): Promise<void> {
  const p = Bun.spawn(argv, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
  if ((await p.exited) !== 0) throw new Error(`${argv.join(" ")} exited ${p.exitCode}`);
}

/** Runs `trials` chains (after one warm-up) where each hop is `hop(i)`; returns per-hop and per-chain times. */
async function chains(length: number, trials: number, hop: (i: number) => Promise<void>): Promise<{ hops: number[]; totals: number[] }> {
  const hops: number[] = [];
  const totals: number[] = [];
  for (let t = 0; t <= trials; t++) {
    let total = 0;
    for (let i = 1; i < length; i++) {
      const s = nowMs();
      await hop(i);
      const d = nowMs() - s;
      total += d;
      if (t) hops.push(d);
    }
    if (t) totals.push(total);
  }
  return { hops, totals };
}

function sqliteCommit(dir: string): { commit: Commit; close(): void } {
  const db = new Database(join(dir, "floor.db"));
  // The same settings as SqliteStore: WAL, synchronous NORMAL.
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  db.run("CREATE TABLE ti (id INTEGER PRIMARY KEY, state TEXT NOT NULL, updated_at TEXT)");
  const insert = db.prepare("INSERT INTO ti (id, state) VALUES (?, 'none')");
  for (let i = 0; i < 1000; i++) insert.run(i);
  const update = db.prepare(
    "UPDATE ti SET state = CASE id WHEN ?1 THEN 'success' ELSE 'running' END, updated_at = ?3 WHERE id IN (?1, ?2)",
  );
  return { commit: (u, d) => void update.run(u, d, new Date().toISOString()), close: () => db.close() };
}

async function postgresCommit(url: string, schema: string): Promise<{ commit: Commit; close(): Promise<void> }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(
    `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".ti (id int PRIMARY KEY, state text NOT NULL, updated_at timestamptz)`,
  );
  await sql.unsafe(`INSERT INTO "${schema}".ti SELECT g, 'none' FROM generate_series(0, 999) g`);
  const text = `UPDATE "${schema}".ti SET state = CASE WHEN id = $1 THEN 'success' ELSE 'running' END, updated_at = now() WHERE id IN ($1, $2)`;
  return { commit: async (u, d) => void (await sql.unsafe(text, [u, d], { prepare: true })), close: () => sql.end() };
}

export const floorWorkload: Workload = async (ctx: BenchContext) => {
  const noop = noopServer();
  try {
    return await floorRows(ctx, () => httpTaskWork(`${noop.base}/floor`));
  } finally {
    noop.stop();
  }
};

/** The floor's rows; `request`: one local HTTP request to a server that answers at once. */
async function floorRows(ctx: BenchContext, request: () => Promise<void>): Promise<Row[]> {
  const trials = ctx.opts.trials ?? 5;
  const length = ctx.opts.chain;
  const rows: Row[] = [];
  const push = (subject: string, r: { hops: number[]; totals: number[] }, note?: string) => {
    rows.push({ workload: WORKLOAD, metric: HOP, subject, kind: "floor", better: "lower", samples: r.hops, note });
    rows.push({ workload: WORKLOAD, metric: TOTAL, subject, kind: "floor", better: "lower", samples: r.totals });
  };
  const agent = () => spawnToExit([BINARY, "version"]);
  ctx.log("floor: spawns");
  push("agent spawn (leoflow version)", await chains(length, trials, agent), "spawn → exit of dist/leoflow");
  push("bash -c true", await chains(length, trials, () => spawnToExit(["bash", "-c", "true"])));
  rows.push({
    workload: WORKLOAD,
    metric: USER_HOP,
    subject: BASH_BACK_TO_BACK,
    kind: "floor",
    better: "lower",
    samples: await backToBackBash(length, trials),
    note: "one bash after another, each printing $EPOCHREALTIME into a file as the chain's tasks do: print → next print",
  });

  const dir = tempDir("floor");
  try {
    ctx.log("floor: sqlite");
    const lite = sqliteCommit(dir);
    let id = 0;
    push(
      "sqlite commit",
      await chains(length, trials, async () => void (await lite.commit(id++ % 999, id % 999))),
      "one WAL commit per hop",
    );
    push(
      floorSubject("sqlite", "http"),
      await chains(length, trials, async () => (await lite.commit(id++ % 999, id % 999), await request())),
      "one WAL commit and one local HTTP request per hop",
    );
    push(
      floorSubject("sqlite", "bash"),
      await chains(length, trials, async () => (await lite.commit(id++ % 999, id % 999), await agent())),
    );
    lite.close();
  } finally {
    removeDir(dir);
  }
  const pgSubjects = ["postgres commit", floorSubject("postgres", "http"), floorSubject("postgres", "bash")];
  if (!ctx.pg) {
    for (const subject of pgSubjects)
      for (const metric of [HOP, TOTAL])
        rows.push(skippedRow({ workload: WORKLOAD, metric, subject, kind: "floor", better: "lower" }, "no Postgres"));
    return rows;
  }
  ctx.log("floor: postgres");
  const pg = await postgresCommit(ctx.pg.url, ctx.pg.schema());
  try {
    let id = 0;
    push(
      pgSubjects[0]!,
      await chains(length, trials, async () => void (await pg.commit(id++ % 999, id % 999))),
      "one round trip + commit per hop",
    );
    push(
      pgSubjects[1]!,
      await chains(length, trials, async () => (await pg.commit(id++ % 999, id % 999), await request())),
      "one round trip + commit and one local HTTP request per hop",
    );
    push(pgSubjects[2]!, await chains(length, trials, async () => (await pg.commit(id++ % 999, id % 999), await agent())));
  } finally {
    await pg.close();
  }
  return rows;
}
