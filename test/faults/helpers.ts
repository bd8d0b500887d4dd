/**
 * Fault-suite helpers: DAG files written into the test's own temp dir, marker files that record every
 * (task, try) execution, and signals sent only to agents of the test's own server (matched by its port).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor, type Leoflow } from "../e2e/harness";

export async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

export function writeDag(dir: string, dag: object): void {
  mkdirSync(join(dir, "dags"), { recursive: true });
  writeFileSync(join(dir, "dags", `${(dag as { dag_id: string }).dag_id}.json`), JSON.stringify(dag, null, 2));
}

/**
 * A bash task that appends "start <run> <task> <try>" to $MARKERS, prints `lines` log lines `pause`
 * seconds apart, then appends "end …". Each (task instance, try) must leave each marker at most once.
 */
export function markedTask(task_id: string, opts: { upstream?: string[]; lines?: number; pause?: number; retries?: number } = {}) {
  const lines = opts.lines ?? 1;
  const me = `$LEOFLOW_RUN_ID ${task_id} $LEOFLOW_TRY_NUMBER`;
  return {
    task_id,
    operator: "bash",
    upstream: opts.upstream ?? [],
    retries: opts.retries ?? 0,
    retry_delay: 0,
    bash_command: `echo "start ${me}" >> "$MARKERS"; for i in $(seq 1 ${lines}); do echo "line $i"; sleep ${opts.pause ?? 0}; done; echo "end ${me}" >> "$MARKERS"`,
  };
}

export function markers(dir: string): string[] {
  const file = join(dir, "markers");
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
}

/** Markers that appear more than once: a (task instance, try) that executed twice. */
export function duplicated(lines: string[]): string[] {
  const seen = new Set<string>();
  return lines.filter((l) => (seen.has(l) ? true : (seen.add(l), false)));
}

/**
 * The expected task instances ("<run> <task>") that never finished a try: no "end <run> <task> <try>" marker
 * for any try. A task that was retried is not lost as long as one of its tries ran to the end.
 */
export function lost(expected: string[], lines: string[]): string[] {
  const finished = new Set(lines.filter((l) => l.startsWith("end ")).map((l) => l.split(" ").slice(1, 3).join(" ")));
  return expected.filter((k) => !finished.has(k));
}

/** Every "<run> <task>" pair, in order: the task instances a fault test expects to finish. */
export function taskInstances(runs: string[], tasks: string[]): string[] {
  return runs.flatMap((r) => tasks.map((t) => `${r} ${t}`));
}

/**
 * Pids of `leoflow agent` processes running a task for the server on `port` (only this test's server; any
 * binary name, see LEOFLOW_TEST_BINARY): cold agents, and warm agents (`agent --warm`, --agent-pool) that
 * have a user process, so the idle ones of the pool are not counted.
 */
export function agentPids(port: number): number[] {
  const r = Bun.spawnSync(["pgrep", "-a", "-f", ` agent (--warm )?--server http://127.0.0.1:${port}$`]);
  const hasChild = (pid: number) =>
    Bun.spawnSync(["pgrep", "-P", String(pid)])
      .stdout.toString()
      .trim() !== "";
  return r.stdout
    .toString()
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => ({ pid: Number(line.split(" ")[0]), warm: line.includes(" agent --warm ") }))
    .filter((a) => !a.warm || hasChild(a.pid))
    .map((a) => a.pid);
}

/** Sends `signal` to an agent and to the process groups of its children (the user's task). */
export function signalAgentTree(pid: number, signal: NodeJS.Signals): void {
  const kids = Bun.spawnSync(["pgrep", "-P", String(pid)])
    .stdout.toString()
    .trim()
    .split("\n")
    .filter(Boolean)
    .map(Number);
  const send = (p: number, group: boolean) => {
    try {
      process.kill(group ? -p : p, signal);
    } catch {
      if (group) send(p, false);
    }
  };
  send(pid, false);
  for (const k of kids) send(k, true);
}

export async function ti(lf: Leoflow, dagId: string, runId: string, taskId: string): Promise<any> {
  return (await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}`)).body;
}

export async function logLines(lf: Leoflow, dagId: string, runId: string, taskId: string, tryNumber: number): Promise<string[]> {
  const res = await lf.api("GET", `/api/v2/dags/${dagId}/dagRuns/${runId}/taskInstances/${taskId}/logs/${tryNumber}?full_content=true`);
  const body = res.body;
  if (typeof body === "string") return body.split("\n").filter(Boolean);
  const content = body?.content;
  if (Array.isArray(content)) return content.map((c: any) => (typeof c === "string" ? c : (c.event ?? c.line ?? JSON.stringify(c))));
  return String(content ?? "")
    .split("\n")
    .filter(Boolean);
}

export async function waitForState(
  lf: Leoflow,
  dagId: string,
  runId: string,
  taskId: string,
  pred: (t: any) => boolean,
  timeoutMs = 30_000,
) {
  let last: any;
  return waitFor(
    async () => ((last = await ti(lf, dagId, runId, taskId)), pred(last) ? last : null),
    timeoutMs,
    () => `${dagId}/${runId}/${taskId} never reached the expected state: ${JSON.stringify(last)}\n${lf.output().slice(-3000)}`,
  );
}

/** One row of the fault report, printed so a run of the suite yields the table. `lost` and `duplicated` are counts computed from what the test observed (lost(), duplicated()), never constants. */
export function report(row: { fault: string; runs: number; tasks: number; lost: number; duplicated: number; recoverMs: number }): void {
  console.log(
    `FAULT-REPORT | ${row.fault} | runs ${row.runs} | tasks ${row.tasks} | lost ${row.lost} | duplicated ${row.duplicated} | recover ${row.recoverMs} ms`,
  );
}
