/**
 * A DAG's `requirements` for its python tasks (Lite, subprocess executor): a virtual environment under
 * `<data dir>/venvs/<sha256 of the sorted requirements and the Python version>/`, built once
 * (`python3 -m venv`, then `pip install` from the configured index or wheel folder), reused by every later
 * try, and a new one when the list or the Python changes. The build holds a lock folder, so two tasks that
 * start together build it once; the other waits and reuses it. pip's output goes to the task's log; a failed
 * build fails the try and leaves nothing behind, so the next try builds afresh.
 */
// Bun.CryptoHasher, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server ~5 ms
// of every start (test/architecture/startup-graph.test.ts).
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { LeoflowError, errorMessage } from "../domain/errors"; // not the index: keeps agent start-up light
import { LineSplitter } from "./line-splitter";

/** What the executor tells the agent about venvs (LEOFLOW_* names the user process never sees). */
export const VENV_SETTINGS_ENV = {
  dir: "LEOFLOW_PYTHON_VENVS_DIR",
  indexUrl: "LEOFLOW_PIP_INDEX_URL",
  findLinks: "LEOFLOW_PIP_FIND_LINKS",
} as const;

export class VenvBuildError extends LeoflowError {
  constructor(message: string) {
    super(message);
    this.name = "VenvBuildError";
  }
}

export interface VenvOptions {
  requirements: readonly string[];
  /** `<data dir>/venvs`. */
  venvsDir: string;
  /** pip's --index-url; with only findLinks set, pip installs from the folder alone (--no-index). */
  indexUrl?: string;
  findLinks?: string;
  /** The environment pip runs with (the task's allowlisted one: proxies pass through as for the task). */
  env: Record<string, string>;
  /** A line for the task's log. */
  log(line: string): void;
  /** The base interpreter; default python3 on PATH. */
  python?: string;
  /** How long to wait for another task's build of the same environment. Default 30 minutes. */
  waitMs?: number;
}

const READY = ".leoflow-ready";

/**
 * The folder name of an environment: the same list in any order, with the same Python, shares one.
 *
 * @example venvKey(["requests==2.32.3"], "3.11.7 (main, …)") // "5e0c…" (64 hex characters)
 */
export function venvKey(requirements: readonly string[], pythonVersion: string): string {
  const lines = [...new Set(requirements.map((r) => r.trim()))].sort();
  return new Bun.CryptoHasher("sha256").update(JSON.stringify({ python: pythonVersion, requirements: lines })).digest("hex");
}

/** pip's arguments: the configured index, or only the wheel folder when that alone is configured. */
export function pipInstallArgs(opts: Pick<VenvOptions, "indexUrl" | "findLinks">, requirementsFile: string): string[] {
  const args = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", requirementsFile];
  if (opts.indexUrl) args.push("--index-url", opts.indexUrl);
  else if (opts.findLinks) args.push("--no-index");
  if (opts.findLinks) args.push("--find-links", opts.findLinks);
  return args;
}

/** Makes sure the environment exists; returns its folder. Throws VenvBuildError with what went wrong. */
export async function ensureVenv(opts: VenvOptions): Promise<string> {
  const python = opts.python ?? "python3";
  const version = await run([python, "-c", "import sys; print(sys.version)"], opts.env, () => {});
  if (version.code !== 0) throw new VenvBuildError(`cannot run ${python} to build the DAG's python environment: ${version.output.trim()}`);
  const dir = join(opts.venvsDir, venvKey(opts.requirements, version.output.trim()));
  if (existsSync(join(dir, READY))) {
    opts.log(`python environment ${dir} (reused)`);
    return dir;
  }
  mkdirSync(opts.venvsDir, { recursive: true });
  const release = await lock(`${dir}.lock`, opts.waitMs ?? 30 * 60_000, opts.log);
  try {
    if (existsSync(join(dir, READY))) {
      opts.log(`python environment ${dir} (built by another task)`);
      return dir;
    }
    rmSync(dir, { recursive: true, force: true }); // a build that died half-way
    opts.log(`building python environment ${dir} for: ${opts.requirements.join(" ")}`);
    const step = async (argv: string[], what: string) => {
      const r = await run(argv, opts.env, (line) => opts.log(`pip: ${line}`));
      if (r.code !== 0) throw new VenvBuildError(`${what} failed (exit code ${r.code}); pip's output is in the task's log above`);
    };
    try {
      const venv = await run([python, "-m", "venv", dir], opts.env, (line) => opts.log(`venv: ${line}`));
      if (venv.code !== 0)
        throw new VenvBuildError(
          `'${python} -m venv' failed (exit code ${venv.code}; its output is in the task's log above)${/ensurepip|python3-venv/.test(venv.output) ? "; on Debian or Ubuntu install python3-venv" : ""}`,
        );
      const reqFile = join(dir, "requirements.txt");
      writeFileSync(reqFile, `${opts.requirements.join("\n")}\n`);
      await step([join(dir, "bin", "python"), ...pipInstallArgs(opts, reqFile)], "pip install of the DAG's requirements");
      writeFileSync(join(dir, READY), new Date().toISOString());
      return dir;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e instanceof VenvBuildError ? e : new VenvBuildError(`building the python environment failed: ${errorMessage(e)}`);
    }
  } finally {
    release();
  }
}

/**
 * A lock folder (mkdir is atomic) holding its owner's host and pid. One whose owner on this host is gone is
 * taken over, so a killed build never blocks the environment.
 */
async function lock(path: string, waitMs: number, log: (line: string) => void): Promise<() => void> {
  const owner = join(path, "owner");
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      mkdirSync(path);
      writeFileSync(owner, `${hostname()} ${process.pid}`);
      return () => rmSync(path, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (ownerGone(owner)) {
      rmSync(path, { recursive: true, force: true });
      continue;
    }
    if (!told) log("waiting for another task that is building the same python environment");
    told = true;
    if (Date.now() > deadline)
      throw new VenvBuildError(
        `gave up waiting for another task's build of the python environment (lock ${path}); remove it if no build runs`,
      );
    await Bun.sleep(200);
  }
}

function ownerGone(owner: string): boolean {
  let text: string;
  try {
    text = readFileSync(owner, "utf8");
  } catch {
    // Not written yet (just made) — unless the folder is old, then its maker died between mkdir and write.
    try {
      return Date.now() - statSync(join(owner, "..")).mtimeMs > 60_000;
    } catch {
      return true;
    }
  }
  const [host, pid] = text.split(" ");
  if (host !== hostname()) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ESRCH";
  }
}

async function run(argv: string[], env: Record<string, string>, onLine: (line: string) => void): Promise<{ code: number; output: string }> {
  let proc: ReturnType<typeof Bun.spawn>;
  try {
    proc = Bun.spawn(argv, { env: { ...env, PIP_DISABLE_PIP_VERSION_CHECK: "1" }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  } catch (e) {
    return { code: -1, output: `cannot start ${argv[0]}: ${errorMessage(e)}` };
  }
  let output = "";
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const splitter = new LineSplitter();
    const reader = stream.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read())
      for (const line of splitter.push(r.value)) {
        output += `${line}\n`;
        onLine(line);
      }
    for (const line of splitter.end()) {
      output += `${line}\n`;
      onLine(line);
    }
  };
  await Promise.all([pump(proc.stdout as ReadableStream<Uint8Array>), pump(proc.stderr as ReadableStream<Uint8Array>)]);
  return { code: await proc.exited, output };
}

/** The venv settings the executor gave this agent; no folder means none (docker, kubernetes: the image has the packages). */
export function venvSettings(env: Record<string, string | undefined>): { venvsDir: string; indexUrl?: string; findLinks?: string } {
  return {
    venvsDir: env[VENV_SETTINGS_ENV.dir] ?? "",
    indexUrl: env[VENV_SETTINGS_ENV.indexUrl] || undefined,
    findLinks: env[VENV_SETTINGS_ENV.findLinks] || undefined,
  };
}

/** The command and environment of a python task run in the environment at `dir` (as `source bin/activate` would). */
export function inVenv(argv: string[], env: Record<string, string>, dir: string): { argv: string[]; env: Record<string, string> } {
  const bin = join(dir, "bin");
  return {
    argv: argv[0] === "python3" ? [join(bin, "python"), ...argv.slice(1)] : argv,
    env: { ...env, VIRTUAL_ENV: dir, PATH: env.PATH ? `${bin}:${env.PATH}` : bin },
  };
}
