/**
 * What each client command does against the API: which call, which body, and which columns it shows.
 * Table output picks the columns a person scans for; `--output json` prints the server's body untouched.
 */
import { parseConnectionUri } from "./conn-uri";
import type { ApiClient, ApiResponse } from "./http";
import { ServerRefusal, seg } from "./http";
import { printLogs } from "./logs";
import type { ParsedCommand } from "./spec";
import { UsageError, shortUsage } from "./spec";
import { formatValue, renderRecord, renderTable } from "./table";

export interface CommandContext {
  cmd: ParsedCommand;
  client: ApiClient;
  out(text: string): void;
  err(text: string): void;
  /** Terminal width for tables; undefined when the output is not a terminal (never cut). */
  columns: number | undefined;
  sleep(ms: number): Promise<void>;
}

type Handler = (ctx: CommandContext) => Promise<number>;
type Column = [header: string, value: (row: any) => unknown];

const API = "/api/v2";
const field =
  (name: string): Column[1] =>
  (row) =>
    row[name];

const DAG_COLUMNS: Column[] = [
  ["DAG_ID", field("dag_id")],
  ["PAUSED", field("is_paused")],
  ["SCHEDULE", field("timetable_summary")],
  ["TAGS", (d) => (d.tags ?? []).map((t: { name: string }) => t.name).join(",")],
  ["FILE", field("relative_fileloc")],
];
const RUN_COLUMNS: Column[] = [
  ["DAG_ID", field("dag_id")],
  ["RUN_ID", field("dag_run_id")],
  ["STATE", field("state")],
  ["RUN_TYPE", field("run_type")],
  ["LOGICAL_DATE", field("logical_date")],
  ["START_DATE", field("start_date")],
  ["END_DATE", field("end_date")],
];
const TI_COLUMNS: Column[] = [
  ["TASK_ID", field("task_id")],
  ["STATE", field("state")],
  ["TRY", field("try_number")],
  ["OPERATOR", field("operator")],
  ["START_DATE", field("start_date")],
  ["END_DATE", field("end_date")],
  ["DURATION", (t) => (t.duration == null ? null : `${Number(t.duration).toFixed(1)}s`)],
];
const VARIABLE_COLUMNS: Column[] = [
  ["KEY", field("key")],
  ["VALUE", field("value")],
  ["DESCRIPTION", field("description")],
];
const CONNECTION_COLUMNS: Column[] = [
  ["CONN_ID", field("connection_id")],
  ["TYPE", field("conn_type")],
  ["HOST", field("host")],
  ["PORT", field("port")],
  ["LOGIN", field("login")],
  ["SCHEMA", field("schema")],
  ["DESCRIPTION", field("description")],
];
const WEBHOOK_COLUMNS: Column[] = [
  ["ID", field("id")],
  ["URL", field("url")],
  ["EVENTS", (w) => w.event_types.join(",")],
  ["DAGS", (w) => (w.dag_ids ? w.dag_ids.join(",") : "*")],
  ["ENABLED", field("enabled")],
  ["DESCRIPTION", field("description")],
];
const POOL_COLUMNS: Column[] = [
  ["POOL", field("name")],
  ["SLOTS", field("slots")],
  ["RUNNING", field("running_slots")],
  ["QUEUED", field("queued_slots")],
  ["OPEN", field("open_slots")],
  ["DESCRIPTION", field("description")],
];

function printList(ctx: CommandContext, res: ApiResponse, key: string, columns: Column[]): number {
  if (ctx.cmd.output === "json") return (ctx.out(withNewline(res.text)), 0);
  const items: any[] = res.json?.[key] ?? [];
  const rows = items.map((item) => columns.map(([, value]) => formatValue(value(item))));
  ctx.out(
    renderTable(
      columns.map(([h]) => h),
      rows,
      ctx.columns,
    ),
  );
  const total = res.json?.total_entries;
  if (typeof total === "number" && total > items.length)
    ctx.err(`(${items.length} of ${total} shown; --limit and --offset page through the rest)\n`);
  return 0;
}

function printRecord(ctx: CommandContext, res: ApiResponse): number {
  ctx.out(ctx.cmd.output === "json" ? withNewline(res.text) : renderRecord(res.json ?? {}, ctx.columns));
  return 0;
}

/** A change the server confirmed: its body in json mode (nothing for a 204), a sentence in table mode. */
function printDone(ctx: CommandContext, res: ApiResponse, sentence: string): number {
  if (ctx.cmd.output === "json") {
    if (res.text) ctx.out(withNewline(res.text));
  } else ctx.out(sentence + "\n");
  return 0;
}

const withNewline = (s: string) => (s.endsWith("\n") ? s : s + "\n");

const paging = (ctx: CommandContext) => ({
  limit: integerOption(ctx, "limit", 1),
  offset: integerOption(ctx, "offset", 0),
});

function integerOption(ctx: CommandContext, name: string, min: number): number | undefined {
  const raw = ctx.cmd.options[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`--${name} must be an integer ≥ ${min}, not "${raw}"`, shortUsage(ctx.cmd.spec));
  return n;
}

function jsonObjectOption(ctx: CommandContext, name: string): Record<string, unknown> | undefined {
  const raw = ctx.cmd.options[name];
  if (typeof raw !== "string") return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new UsageError(
      `--${name} is not JSON (${e instanceof Error ? e.message : e}): give an object like '{"key": "value"}'`,
      shortUsage(ctx.cmd.spec),
    );
  }
  if (!v || typeof v !== "object" || Array.isArray(v))
    throw new UsageError(`--${name} must be a JSON object like '{"key": "value"}'`, shortUsage(ctx.cmd.spec));
  return v as Record<string, unknown>;
}

const str = (ctx: CommandContext, name: string) => ctx.cmd.options[name] as string | undefined;
const arg = (ctx: CommandContext, name: string) => ctx.cmd.args[name]!;
const dagPath = (ctx: CommandContext) => `${API}/dags/${seg(arg(ctx, "DAG"))}`;
const runPath = (ctx: CommandContext) => `${dagPath(ctx)}/dagRuns/${seg(arg(ctx, "RUN"))}`;

async function setPaused(ctx: CommandContext, paused: boolean): Promise<number> {
  const res = await ctx.client.request("PATCH", dagPath(ctx), { body: { is_paused: paused } });
  return printDone(ctx, res, `${arg(ctx, "DAG")} is ${paused ? "paused" : "unpaused"}`);
}

/** Create-or-update: PATCH first (the common case when scripts re-run), POST when it does not exist yet. */
async function upsert(ctx: CommandContext, path: string, collection: string, body: Record<string, unknown>): Promise<ApiResponse> {
  try {
    return await ctx.client.request("PATCH", path, { body });
  } catch (e) {
    if (!(e instanceof ServerRefusal) || e.status !== 404) throw e;
    return ctx.client.request("POST", collection, { body });
  }
}

export const HANDLERS: Record<string, Handler> = {
  "dags list": async (ctx) => printList(ctx, await ctx.client.request("GET", `${API}/dags`, { query: paging(ctx) }), "dags", DAG_COLUMNS),
  "dags get": async (ctx) => printRecord(ctx, await ctx.client.request("GET", dagPath(ctx))),
  "dags pause": (ctx) => setPaused(ctx, true),
  "dags unpause": (ctx) => setPaused(ctx, false),
  "dags trigger": async (ctx) => {
    const body = {
      dag_run_id: str(ctx, "run-id"),
      logical_date: str(ctx, "logical-date") ?? null,
      conf: jsonObjectOption(ctx, "conf"),
      note: str(ctx, "note"),
    };
    return printRecord(ctx, await ctx.client.request("POST", `${dagPath(ctx)}/dagRuns`, { body }));
  },

  "runs list": async (ctx) => {
    const query = { ...paging(ctx), state: str(ctx, "state"), order_by: "-id" };
    return printList(ctx, await ctx.client.request("GET", `${dagPath(ctx)}/dagRuns`, { query }), "dag_runs", RUN_COLUMNS);
  },
  "runs get": async (ctx) => printRecord(ctx, await ctx.client.request("GET", runPath(ctx))),
  "runs clear": async (ctx) => {
    const dryRun = ctx.cmd.options["dry-run"] === true;
    const body = { dry_run: dryRun, only_failed: ctx.cmd.options["only-failed"] === true };
    const res = await ctx.client.request("POST", `${runPath(ctx)}/clear`, { body });
    return dryRun ? printList(ctx, res, "task_instances", TI_COLUMNS) : printRecord(ctx, res);
  },

  "tasks list": async (ctx) =>
    printList(ctx, await ctx.client.request("GET", `${runPath(ctx)}/taskInstances`), "task_instances", TI_COLUMNS),
  "tasks logs": (ctx) =>
    printLogs(
      ctx.client,
      {
        dag: arg(ctx, "DAG"),
        run: arg(ctx, "RUN"),
        task: arg(ctx, "TASK"),
        tryNumber: integerOption(ctx, "try", 1),
        follow: ctx.cmd.options.follow === true,
        json: ctx.cmd.output === "json",
      },
      { out: ctx.out, sleep: ctx.sleep, pollMs: 500 },
    ),

  "variables list": async (ctx) =>
    printList(ctx, await ctx.client.request("GET", `${API}/variables`, { query: paging(ctx) }), "variables", VARIABLE_COLUMNS),
  "variables get": async (ctx) => printRecord(ctx, await ctx.client.request("GET", `${API}/variables/${seg(arg(ctx, "KEY"))}`)),
  "variables set": async (ctx) => {
    const key = arg(ctx, "KEY");
    const body: Record<string, unknown> = { key, value: arg(ctx, "VALUE") };
    if (str(ctx, "description") !== undefined) body.description = str(ctx, "description");
    const res = await upsert(ctx, `${API}/variables/${seg(key)}`, `${API}/variables`, body);
    return printDone(ctx, res, `variable ${key} set`);
  },
  "variables delete": async (ctx) => {
    const res = await ctx.client.request("DELETE", `${API}/variables/${seg(arg(ctx, "KEY"))}`);
    return printDone(ctx, res, `variable ${arg(ctx, "KEY")} deleted`);
  },

  "connections list": async (ctx) =>
    printList(ctx, await ctx.client.request("GET", `${API}/connections`, { query: paging(ctx) }), "connections", CONNECTION_COLUMNS),
  "connections get": async (ctx) => printRecord(ctx, await ctx.client.request("GET", `${API}/connections/${seg(arg(ctx, "CONN_ID"))}`)),
  "connections add": async (ctx) => {
    const id = arg(ctx, "CONN_ID");
    const res = await ctx.client.request("POST", `${API}/connections`, { body: { connection_id: id, ...connectionFields(ctx) } });
    return printDone(ctx, res, `connection ${id} added`);
  },
  "connections delete": async (ctx) => {
    const res = await ctx.client.request("DELETE", `${API}/connections/${seg(arg(ctx, "CONN_ID"))}`);
    return printDone(ctx, res, `connection ${arg(ctx, "CONN_ID")} deleted`);
  },

  "pools list": async (ctx) =>
    printList(ctx, await ctx.client.request("GET", `${API}/pools`, { query: paging(ctx) }), "pools", POOL_COLUMNS),
  "pools set": async (ctx) => {
    const name = arg(ctx, "NAME");
    const slots = Number(arg(ctx, "SLOTS"));
    if (!Number.isInteger(slots) || slots < -1)
      throw new UsageError(`SLOTS must be an integer ≥ -1 (-1: unlimited), not "${arg(ctx, "SLOTS")}"`, shortUsage(ctx.cmd.spec));
    const body: Record<string, unknown> = { name, slots };
    if (str(ctx, "description") !== undefined) body.description = str(ctx, "description");
    if (ctx.cmd.options["include-deferred"] === true) body.include_deferred = true;
    return printRecord(ctx, await upsert(ctx, `${API}/pools/${seg(name)}`, `${API}/pools`, body));
  },
  "pools delete": async (ctx) => {
    const res = await ctx.client.request("DELETE", `${API}/pools/${seg(arg(ctx, "NAME"))}`);
    return printDone(ctx, res, `pool ${arg(ctx, "NAME")} deleted`);
  },

  "webhooks list": async (ctx) => printList(ctx, await ctx.client.request("GET", `${API}/leoflow/webhooks`), "webhooks", WEBHOOK_COLUMNS),
  "webhooks create": async (ctx) => {
    const list = (name: string) =>
      str(ctx, name)
        ?.split(",")
        .map((x) => x.trim())
        .filter(Boolean);
    const [events, secret] = [list("events"), str(ctx, "secret")];
    if (!events?.length || secret === undefined)
      throw new UsageError("needs --events LIST (or --events '*') and --secret SECRET", shortUsage(ctx.cmd.spec));
    const body = {
      url: arg(ctx, "URL"),
      event_types: events,
      dag_ids: list("dags") ?? null,
      secret,
      description: str(ctx, "description") ?? null,
    };
    const res = await ctx.client.request("POST", `${API}/leoflow/webhooks`, { body });
    return printDone(ctx, res, `webhook ${res.json?.id} created: ${res.json?.url}`);
  },
  "webhooks delete": async (ctx) => {
    const res = await ctx.client.request("DELETE", `${API}/leoflow/webhooks/${seg(arg(ctx, "ID"))}`);
    return printDone(ctx, res, `webhook ${arg(ctx, "ID")} deleted`);
  },
};

/** The connection's fields from --conn-uri and the --conn-* options (an option wins over the URI). */
function connectionFields(ctx: CommandContext): Record<string, unknown> {
  const uri = str(ctx, "conn-uri");
  let fields: Record<string, unknown> = {};
  if (uri !== undefined) {
    try {
      fields = parseConnectionUri(uri);
    } catch (e) {
      throw new UsageError(`--conn-uri: ${e instanceof Error ? e.message : e}`, shortUsage(ctx.cmd.spec));
    }
  }
  const port = integerOption(ctx, "conn-port", 0);
  const extra = jsonObjectOption(ctx, "conn-extra");
  const given: Record<string, unknown> = {
    conn_type: str(ctx, "conn-type"),
    host: str(ctx, "conn-host"),
    port,
    login: str(ctx, "conn-login"),
    password: str(ctx, "conn-password"),
    schema: str(ctx, "conn-schema"),
    extra: extra === undefined ? undefined : JSON.stringify(extra),
    description: str(ctx, "conn-description"),
  };
  for (const [k, v] of Object.entries(given)) if (v !== undefined) fields[k] = v;
  if (!fields.conn_type) throw new UsageError("needs --conn-type TYPE or --conn-uri URI", shortUsage(ctx.cmd.spec));
  return fields;
}
