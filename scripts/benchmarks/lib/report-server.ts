/**
 * A stand-in for the server's least part in a subprocess hop, for the chain workload's floor rows: a child Bun
 * process that reads one report line at a time on stdin, commits it to SQLite as Lite would (WAL, synchronous
 * NORMAL: the upstream's end and the downstream's start, two rows in one transaction) and answers a line. What it
 * leaves out is Leoflow's own path (its RPC, events, registration, a second agent): the floor says what a hop with
 * a durable server round trip can cost at least, on this machine at this moment.
 *
 * @example
 * const server = await startReportServer(dir);
 * await server.report(); // after each bash exits, before the next starts
 * await server.stop();
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const SERVER_SOURCE = `
import { Database } from "bun:sqlite";
const db = new Database(process.argv[2]);
db.run("PRAGMA journal_mode = WAL");
db.run("PRAGMA synchronous = NORMAL");
db.run("CREATE TABLE IF NOT EXISTS hop (id INTEGER PRIMARY KEY, state TEXT NOT NULL, at REAL NOT NULL)");
const insert = db.query("INSERT INTO hop (state, at) VALUES (?, ?)");
const commit = db.transaction(() => { insert.run("success", Date.now()); insert.run("running", Date.now()); });
const decoder = new TextDecoder();
let pending = "";
for await (const chunk of Bun.stdin.stream()) {
  pending += decoder.decode(chunk, { stream: true });
  for (let i = pending.indexOf("\\n"); i >= 0; i = pending.indexOf("\\n")) {
    pending = pending.slice(i + 1);
    commit();
    process.stdout.write("ok\\n");
  }
}
`;

export interface ReportServer {
  /** Sends one report and resolves once the server has committed it and answered. */
  report(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the report server in `dir` (its script and database go there) and waits until it answers. */
export async function startReportServer(dir: string): Promise<ReportServer> {
  const script = join(dir, "report-server.ts");
  writeFileSync(script, SERVER_SOURCE);
  const proc = Bun.spawn([process.execPath, script, join(dir, "report-server.db")], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  const report = async () => {
    proc.stdin.write("done\n");
    await proc.stdin.flush();
    for (;;) {
      const i = buffered.indexOf("\n");
      if (i >= 0) {
        buffered = buffered.slice(i + 1);
        return;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`the report server exited (${await proc.exited})`);
      buffered += decoder.decode(value, { stream: true });
    }
  };
  await report(); // started, its database open: the first answer is not a hop's
  return {
    report,
    stop: async () => {
      proc.stdin.end();
      await proc.exited;
    },
  };
}
