/**
 * The body of the hidden `leoflow __parse-dags --report FILE PATH…` subcommand: the server (and `dags
 * validate`) run it in a child process to parse DAG files, so whatever a file does at import — exit, hang,
 * allocate without end, throw from a timer — happens to this process, never to the server.
 *
 * It parses the files one after the other and appends one JSON line per file to the report file as soon as
 * that file is done, so when the process dies the parent knows which file it was on. The parent sends at
 * most one code (TS/JS) file per process; this process exits right after reporting it, so timers the file
 * left behind never run anywhere.
 */
import { appendFileSync } from "node:fs";
import { resolve } from "node:path";
import { limitCpuSeconds } from "./cpu-limit";
import { loadDagFile, type LoadResult } from "./loader";
import type { ReportLine } from "./parse-policy";

/**
 * Parses the files and exits the process (never returns normally): 0 once every file is reported, 2 on
 * bad usage.
 */
export async function runParseWorker(args: string[]): Promise<never> {
  const [flag, report, ...files] = args;
  if (flag !== "--report" || !report || files.length === 0) {
    process.stderr.write("usage: leoflow __parse-dags --report FILE PATH... (internal: the server parses DAG files with it)\n");
    process.exit(2);
  }
  limitCpuSeconds(Number(process.env.LEOFLOW_PARSE_CPU_SECONDS));
  delete process.env.LEOFLOW_PARSE_CPU_SECONDS;
  let current = "";
  const write = (line: ReportLine) => appendFileSync(report, JSON.stringify(line) + "\n");
  // A timer or promise the file started fails while it is being imported (or in the turn right after):
  // the error is that file's, reported like any error thrown at import.
  const late = (kind: string) => (e: unknown) => {
    if (current)
      write({
        file: current,
        dags: [],
        errors: [
          { path: positionIn(e, current), message: `error in a ${kind} while importing: ${e instanceof Error ? e.message : String(e)}` },
        ],
      });
    process.exit(0);
  };
  process.on("uncaughtException", late("callback"));
  process.on("unhandledRejection", late("promise"));

  // Keeps the process alive while a file awaits something that never settles: the parent then reports a
  // timeout, rather than the runtime quietly exiting with the file unreported.
  setInterval(() => {}, 1 << 30);
  for (const path of files) {
    current = resolve(path);
    const result = await loadDagFile(current);
    // Let zero-delay timers and rejected promises of the file surface now, while they are still its own.
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setImmediate(r));
    write(toLine(result));
  }
  current = "";
  process.exit(0);
}

/** Specs only: `ts` functions stay behind (the agent imports the file itself to run them). */
function toLine(r: LoadResult): ReportLine {
  return { file: r.file, dags: r.dags.map((d) => d.spec), errors: r.errors };
}

/** `line 3, column 11` from the first stack frame in the DAG file, or "" when the error has none there. */
function positionIn(e: unknown, file: string): string {
  const frame = e instanceof Error ? e.stack?.split("\n").find((l) => l.includes(file)) : undefined;
  const at = frame && /:(\d+):(\d+)\)?\s*$/.exec(frame);
  return at ? `line ${at[1]}, column ${at[2]}` : "";
}
