/**
 * `leoflow teams create|list|set|delete`: manage teams (tenants) directly in the store, like `leoflow users`
 * (no server needed). A team gets its own `default_pool`; quotas are whole numbers (`none` lifts one); the
 * executor policy is JSON (see ExecutorPolicy in src/domain/teams.ts).
 *
 * @example leoflow teams create data-eng --max-running-tasks 50 --executor-policy '{"images":["ghcr.io/de/*"]}'
 */
import { parseArgs } from "node:util";
import { ConflictError, LeoflowError, ValidationError, errorMessage, teamNameProblem, type TeamRecord } from "../domain";
import { parseExecutorPolicy } from "../domain/schemas";
import type { TeamPatch } from "../store";
import { missingTables, openExistingStore, type OpenedStore } from "./open-store";
import { UsageError, type CliIo } from "./secrets";

export const TEAMS_USAGE = `teams create NAME [--description D] [--max-running-tasks N] [--max-pool-slots N]
                    [--max-inline-requests N] [--executor-policy JSON]
       teams list [--json]
       teams set NAME [the flags of create; a quota of "none" lifts it]
       teams delete NAME
       (each takes --db URL, --data-dir DIR or --config PATH, like serve; give users roles with \`leoflow users grant\`)`;

const OPTIONS = {
  db: { type: "string" },
  "data-dir": { type: "string" },
  config: { type: "string" },
  description: { type: "string" },
  "max-running-tasks": { type: "string" },
  "max-pool-slots": { type: "string" },
  "max-inline-requests": { type: "string" },
  "executor-policy": { type: "string" },
  json: { type: "boolean" },
} as const;

const COMMANDS = ["create", "list", "set", "delete"];
const QUOTAS = ["max-running-tasks", "max-pool-slots", "max-inline-requests"] as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: true }>>["values"];

/** Runs `leoflow teams …`; returns the exit code (0 ok, 1 refused or failed; bad usage throws UsageError). */
export async function teamsCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || !COMMANDS.includes(sub))
    throw new UsageError(`${sub ? `unknown teams command "${sub}"` : "teams needs a command"}; usage:\n  leoflow ${TEAMS_USAGE}`);
  let values: Values;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: true }));
  } catch (e) {
    throw new UsageError(`teams ${sub}: ${errorMessage(e)}; usage:\n  leoflow ${TEAMS_USAGE}`);
  }
  const wantsName = sub !== "list";
  if (positionals.length !== (wantsName ? 1 : 0))
    throw new UsageError(wantsName ? `teams ${sub} needs exactly one NAME (got ${positionals.length})` : "teams list takes no NAME");
  const name = positionals[0] ?? "";
  if (wantsName) {
    const problem = teamNameProblem(name);
    if (problem) throw new UsageError(problem);
  }
  const patch = fieldsFrom(values);
  if ((sub === "list" || sub === "delete") && Object.keys(patch).length)
    throw new UsageError(`teams ${sub} takes no --${Object.keys(patch)[0]?.replaceAll("_", "-")}`);
  if (sub === "set" && !Object.keys(patch).length)
    throw new UsageError("teams set needs something to change: --description, a quota flag or --executor-policy");

  const store = await openExistingStore(values, io);
  try {
    return await run(sub, name, patch, values, io, store);
  } catch (e) {
    if (e instanceof ConflictError || e instanceof ValidationError) throw new LeoflowError(e.message);
    throw missingTables(e) ?? e;
  } finally {
    await store.close();
  }
}

async function run(sub: string, name: string, patch: TeamPatch, values: Values, io: CliIo, store: OpenedStore): Promise<number> {
  switch (sub) {
    case "list": {
      const teams = await store.listTeams();
      io.out(values.json ? `${JSON.stringify(teams, null, 2)}\n` : table(teams));
      return 0;
    }
    case "create": {
      const team = await store.createTeam(
        {
          name,
          description: patch.description ?? null,
          max_running_tasks: patch.max_running_tasks ?? null,
          max_pool_slots: patch.max_pool_slots ?? null,
          max_inline_requests: patch.max_inline_requests ?? null,
          executor_policy: patch.executor_policy ?? {},
        },
        new Date(),
      );
      io.out(`created team ${team.name} (${limits(team)}) with its default_pool of 128 slots\n`);
      return 0;
    }
    case "set": {
      const team = await store.updateTeam(name, patch);
      if (!team) throw new LeoflowError(`team "${name}" does not exist; \`leoflow teams list\` shows which do`);
      io.out(`changed team ${team.name}: ${limits(team)}\n`);
      return 0;
    }
    default: {
      if (!(await store.deleteTeam(name))) throw new LeoflowError(`team "${name}" does not exist; \`leoflow teams list\` shows which do`);
      io.out(`deleted team ${name} with its pools, variables and connections; its users keep their other teams' roles\n`);
      return 0;
    }
  }
}

/** The team fields the flags give (only those given). */
function fieldsFrom(values: Values): TeamPatch {
  const patch: TeamPatch = {};
  if (values.description !== undefined) patch.description = values.description;
  for (const flag of QUOTAS) {
    const raw = values[flag];
    if (raw !== undefined) patch[flag.replaceAll("-", "_") as "max_running_tasks"] = quota(flag, raw);
  }
  if (values["executor-policy"] !== undefined) {
    try {
      patch.executor_policy = parseExecutorPolicy(values["executor-policy"]);
    } catch (e) {
      throw new UsageError(`--executor-policy: ${errorMessage(e)}`);
    }
  }
  return patch;
}

function quota(flag: string, raw: string): number | null {
  if (raw === "none") return null;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${flag} must be a whole number ≥ 0, or "none" for no limit (got "${raw}")`);
  return Number(raw);
}

function limits(t: TeamRecord): string {
  const q = (n: number | null) => (n === null ? "unlimited" : String(n));
  const policy = Object.keys(t.executor_policy).length ? `, executor policy ${JSON.stringify(t.executor_policy)}` : "";
  return `max running tasks ${q(t.max_running_tasks)}, max pool slots ${q(t.max_pool_slots)}, max inline requests ${q(t.max_inline_requests)}${policy}`;
}

function table(teams: TeamRecord[]): string {
  const rows = [
    ["NAME", "RUNNING", "POOL SLOTS", "INLINE", "DESCRIPTION"],
    ...teams.map((t) =>
      [t.name, t.max_running_tasks, t.max_pool_slots, t.max_inline_requests]
        .map((v) => (v === null ? "-" : String(v)))
        .concat(t.description ?? ""),
    ),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i] ?? 0) : c))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")}\n`;
}
