/**
 * Parses DAG files out of process: the server never imports a DAG file itself. Each code (TS/JS) file gets
 * a fresh child that exits once it has reported; data files (JSON/YAML) go in batches — they run no user
 * code, but a huge file or a YAML bomb can still eat memory and time, so they stay behind the same limits,
 * at the cost of one spawn per batch instead of one per file. Results are cached by content hash.
 */
// crypto.getRandomValues, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server
// ~5 ms of every start (test/architecture/startup-graph.test.ts).
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { isCodeFile } from "./file-kinds";
import type { LoadResult } from "./loader";
import { ParseCache, parseCacheKey } from "./parse-cache";
import { DEFAULT_PARSE_LIMITS, describeFailure, isCacheable, parseWorkerEnv, resultFromReport, type ParseLimits } from "./parse-policy";
import { runParseProcess } from "./parse-process";
import { DEFAULT_TEAM, errorMessage } from "../domain";

/** The DAG parser (domain/schemas: zod), loaded when the first report is read back rather than when the server starts. */
const dagParser = async () => (await import("../domain/schemas")).parseDagSpec;

/** Turns DAG files into LoadResults, in the order given. */
export interface DagParser {
  /**
   * `helpers`: digest of the folder's helper modules (see parse-cache.ts); part of code files' cache key.
   * `team`: whose folder the files are in (default: the team default); part of every cache key, so one
   * team's cached results are never another's. `onResult`: each file's result as soon as it is known (a file
   * that parses slowly, up to the parse timeout, holds back no other's).
   */
  parse(files: string[], helpers?: string, team?: string, onResult?: (r: LoadResult) => void): Promise<LoadResult[]>;
}

/** Imports files into this very process: for tests of the sync logic only, never for the server. */
export const inProcessParser: DagParser = {
  async parse(files, _helpers, _team, onResult) {
    const { loadDagFile } = await import("./loader");
    const out: LoadResult[] = [];
    for (const f of files) {
      out.push(await loadDagFile(f));
      onResult?.(out.at(-1)!);
    }
    return out;
  },
};

/** Most parses take well under it; one still running after it is in a loop or a wait, until its timeout. */
const LONG_PARSE_MS = 3_000;

export interface IsolatedParserOptions {
  /** argv prefix that starts this program: `selfCommand()` from the agent module. */
  command: string[];
  /** The binary's version: a new binary re-parses everything once (the SDK may have changed). */
  version: string;
  limits?: ParseLimits;
  /** Parse processes at once. Default 2–4 by CPU count. */
  concurrency?: number;
  /** After this long a parse gives its slot to the next file (withSlot). Default LONG_PARSE_MS. */
  longParseMs?: number;
  /** Data files per parse process. Default 100. */
  batchSize?: number;
  /** Default: in memory only. */
  cache?: ParseCache;
  /** The environment the children's allowlisted one is taken from. Default process.env. */
  env?: Record<string, string | undefined>;
}

export interface ParserStats {
  processes: number;
  cacheHits: number;
  parsed: number;
  /** Highest RSS a parse process reached, bytes. */
  peakRss: number;
}

export class IsolatedDagParser implements DagParser {
  readonly limits: ParseLimits;
  readonly stats: ParserStats = { processes: 0, cacheHits: 0, parsed: 0, peakRss: 0 };
  private readonly concurrency: number;
  private readonly cache: Promise<ParseCache>;
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  /** Parses running past LONG_PARSE_MS that gave their slot up. */
  private overtime = 0;
  private readonly longParseMs: number;

  constructor(private readonly opts: IsolatedParserOptions) {
    this.limits = opts.limits ?? DEFAULT_PARSE_LIMITS;
    this.concurrency = opts.concurrency ?? Math.min(4, Math.max(2, availableParallelism()));
    this.longParseMs = opts.longParseMs ?? LONG_PARSE_MS;
    this.cache = opts.cache ? Promise.resolve(opts.cache) : ParseCache.open(null);
  }

  /**
   * @example const [r] = await parser.parse(["/srv/dags/etl.ts"]); // r.errors: import errors, never a throw
   */
  async parse(files: string[], helpers = "", team: string = DEFAULT_TEAM, onResult?: (r: LoadResult) => void): Promise<LoadResult[]> {
    const cache = await this.cache;
    const now = Date.now();
    const results = new Map<string, LoadResult>();
    const known = (file: string, result: LoadResult) => {
      results.set(file, result);
      onResult?.(result);
    };
    const keys = new Map<string, string>();
    const code: string[] = [];
    const data: string[] = [];
    for (const file of files.map((f) => resolve(f))) {
      let content: string;
      try {
        content = await contentDigest(file);
      } catch (e) {
        known(file, { file, dags: [], errors: [{ path: "", message: `cannot read the file: ${errorMessage(e)}` }] });
        continue;
      }
      const isCode = isCodeFile(file);
      const key = parseCacheKey({ version: this.opts.version, team, file, content, helpers: isCode ? helpers : "", limits: this.limits });
      const hit = cache.get(key, now);
      if (hit) {
        this.stats.cacheHits++;
        known(file, resultFromReport(file, { file, ...hit }, await dagParser()));
        continue;
      }
      keys.set(file, key);
      (isCode ? code : data).push(file);
    }
    const record = (file: string, result: LoadResult, cacheable: boolean) => {
      this.stats.parsed++;
      if (cacheable) cache.set(keys.get(file)!, { dags: result.dags.map((d) => d.spec), errors: result.errors }, now);
      known(file, result);
    };
    const batch = this.opts.batchSize ?? 100;
    const jobs: string[][] = code.map((f) => [f]);
    for (let i = 0; i < data.length; i += batch) jobs.push(data.slice(i, i + batch));
    await Promise.all(jobs.map((job) => this.runJob(job, record)));
    await cache.save(Date.now()).catch(() => {}); // a cache that cannot be written only costs re-parsing
    return files.map((f) => results.get(resolve(f))!);
  }

  /**
   * Runs files through parse processes until each has a result. When a process dies, the first file it had
   * not reported is the one that killed it; the files after it get a new process.
   */
  private async runJob(files: string[], record: (file: string, r: LoadResult, cacheable: boolean) => void): Promise<void> {
    let rest = files;
    while (rest.length) {
      const outcome = await this.withSlot(() =>
        runParseProcess(rest, {
          command: this.opts.command,
          limits: this.limits,
          env: parseWorkerEnv(this.opts.env ?? process.env, this.limits),
          reportFile: join(
            tmpdir(),
            `leoflow-parse-${process.pid}-${Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex")}.jsonl`,
          ),
        }),
      );
      this.stats.processes++;
      this.stats.peakRss = Math.max(this.stats.peakRss, outcome.peakRss);
      const next: string[] = [];
      let blamed = false;
      const parseDagSpec = await dagParser();
      for (const file of rest) {
        const line = outcome.reported.get(file);
        if (line) record(file, resultFromReport(file, line, parseDagSpec), true);
        else if (!blamed || outcome.failure?.kind === "spawn") {
          blamed = true;
          const failure = outcome.failure ?? { kind: "exit", code: 0 };
          record(file, { file, dags: [], errors: [describeFailure(failure, this.limits)] }, isCacheable(failure));
        } else next.push(file);
      }
      rest = next;
    }
  }

  /**
   * Runs `work` (one parse process) in one of `concurrency` slots. A parse still running after LONG_PARSE_MS (a file
   * in an endless loop or a wait, until its timeout) gives its slot to the next job, so two such files cannot stall
   * every other file's parse for the timeout; at most `concurrency` parses run past their slot at once.
   */
  private async withSlot<T>(work: () => Promise<T>): Promise<T> {
    while (this.active >= this.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
    let holds = true;
    let ranOver = false;
    const free = () => {
      if (!holds) return;
      holds = false;
      this.active--;
      this.waiting.shift()?.();
    };
    const timer = setTimeout(() => {
      if (this.overtime >= this.concurrency) return;
      this.overtime++;
      ranOver = true;
      free();
    }, this.longParseMs);
    timer.unref?.();
    try {
      return await work();
    } finally {
      clearTimeout(timer);
      if (ranOver) this.overtime--;
      free();
    }
  }
}

/** sha256 of a file, streamed: a huge file in the folder must not be read into the server's memory. */
async function contentDigest(file: string): Promise<string> {
  const h = new Bun.CryptoHasher("sha256");
  const reader = Bun.file(file).stream().getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) h.update(r.value);
  return h.digest("hex");
}
