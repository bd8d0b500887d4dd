/** Across DAGs: run counts per state (/dagStats), tags (/dagTags) and warnings (/dagWarnings). */
import { Hono } from "hono";
import { z } from "zod";
import { DAG_RUN_STATES, ValidationError, type DagRecord, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { airflowPattern, repeated } from "./list-params";
import { pagingQuery, parseQuery } from "./validate";
import { teamOf } from "./team";

/** Airflow's DagWarningType values; Leoflow can raise the second (a task names a pool that does not exist). */
const WARNING_TYPES = ["asset conflict", "non-existent pool"] as const;

export const WarningsQuery = lazySchema(() =>
  z.object({
    ...pagingQuery,
    dag_id: z.string().min(1).optional(),
    warning_type: z.enum(WARNING_TYPES, { error: `Input should be one of ${WARNING_TYPES.map((t) => `'${t}'`).join(", ")}` }).optional(),
  }),
);

/** Every DAG, for the cross-DAG views (a server has hundreds, not millions). */
const ALL = 1_000_000;

export function dagStatsRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/dagStats", async (c) => {
    const q = parseQuery(c, z.object({ dag_ids: repeated(z.string().min(1)) }), ["dag_ids"]);
    // Airflow also takes one comma-separated value.
    const asked = q.dag_ids?.length === 1 && q.dag_ids[0]!.includes(",") ? q.dag_ids[0]!.split(",") : q.dag_ids;
    const team = teamOf(c);
    const counts = await store.countDagRunStates(team, asked);
    const ids = asked
      ? (await Promise.all(asked.map((id) => store.getDag(team, id)))).flatMap((d) => (d ? [d.dag_id] : []))
      : [...new Set(counts.map((r) => r.dag_id))];
    const dags = [...new Set(ids)].sort().map((dagId) => ({
      dag_id: dagId,
      dag_display_name: dagId,
      stats: DAG_RUN_STATES.map((state) => ({ state, count: counts.find((r) => r.dag_id === dagId && r.state === state)?.count ?? 0 })),
    }));
    return c.json({ dags, total_entries: dags.length });
  });

  app.get("/dagTags", async (c) => {
    const q = parseQuery(c, z.object({ ...pagingQuery, tag_name_pattern: z.string().min(1).optional() }));
    const page = await store.listDagTags(teamOf(c), {
      limit: q.limit,
      offset: q.offset,
      order_by: q.order_by,
      pattern: airflowPattern(q.tag_name_pattern),
    });
    return c.json({ tags: page.items, total_entries: page.total });
  });

  app.get("/dagWarnings", async (c) => {
    const q = parseQuery(c, WarningsQuery);
    const desc = q.order_by?.startsWith("-") ?? false;
    const field = q.order_by?.replace(/^-/, "") ?? "dag_id";
    if (!["dag_id", "warning_type", "message", "timestamp"].includes(field))
      throw new ValidationError(
        `Ordering with '${field}' is disallowed or the attribute does not exist on the model; use dag_id, warning_type, message or timestamp`,
        [{ path: "order_by", message: `unknown field ${field}` }],
      );
    const dags = q.dag_id
      ? [await store.getDag(teamOf(c), q.dag_id)].filter((d): d is DagRecord => d?.is_active === true)
      : (await store.findDags(teamOf(c), { only_active: true, limit: ALL })).items;
    const pools = new Set((await store.listPools(teamOf(c), { limit: ALL })).items.map((p) => p.name));
    const warnings = q.warning_type === "asset conflict" ? [] : dags.flatMap((dag) => poolWarning(dag, pools));
    warnings.sort((a, b) => {
      const x = String(a[field as keyof typeof a]);
      const y = String(b[field as keyof typeof b]);
      return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
    });
    return c.json({ dag_warnings: warnings.slice(q.offset, q.offset + q.limit), total_entries: warnings.length });
  });

  return app;
}

/** Airflow's "non-existent pool" warning: tasks would wait forever for a pool nobody created. */
function poolWarning(dag: DagRecord, pools: Set<string>) {
  const missing = [...new Set(dag.spec.tasks.map((t) => t.pool))].filter((p) => !pools.has(p)).sort();
  if (missing.length === 0) return [];
  return [
    {
      dag_id: dag.dag_id,
      warning_type: "non-existent pool" as const,
      message: `Dag '${dag.dag_id}' references non-existent pools: ${missing.join(", ")}; create them (POST /api/v2/pools) or change the tasks' pool`,
      timestamp: dag.last_parsed_at.toISOString(),
      dag_display_name: dag.dag_id,
    },
  ];
}
