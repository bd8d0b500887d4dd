/**
 * Webhooks on Postgres: subscriptions, and the outbox of deliveries. The outbox INSERTs here run inside the
 * transaction of the state change they report (postgres-store.ts wraps both), and build the event from the
 * changed row itself, matching team, event type and DAG filter in SQL. Claims take FOR UPDATE SKIP LOCKED,
 * so replicas polling at once split the due rows instead of waiting on each other.
 */
import type {
  ClaimedWebhookDelivery,
  ListOptions,
  Page,
  SecretRewrite,
  StoredWebhookSecret,
  WebhookAttemptOutcome,
  WebhookPruneCutoffs,
  WebhookDeliveryRecord,
  WebhookDeliveryState,
  WebhookInput,
  WebhookPatch,
  WebhookRecord,
} from "../../domain";
import { TASK_EVENT } from "../webhook-interest";
import { Params, execute, notIndexed, query, type Db, type Pool } from "./client";
import { MASKED_FORM } from "./apply-sql";
import type { ApplyStatement } from "./task-instances";

const WEBHOOK_COLUMNS = "id, team, url, event_types, dag_ids, enabled, description, created_at, updated_at";
const DELIVERY_COLUMNS =
  "id, webhook_id, team, event_type, event, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at";
type DeliveryRow = Omit<WebhookDeliveryRecord, "event"> & { event: string };
const toDelivery = (r: DeliveryRow): WebhookDeliveryRecord => ({ ...r, event: JSON.parse(r.event) });

export async function createWebhook(db: Db, team: string, input: WebhookInput, now: Date): Promise<WebhookRecord> {
  const [row] = await query<WebhookRecord>(
    db,
    `INSERT INTO webhooks (team, url, event_types, dag_ids, secret, enabled, description, created_at, updated_at)
     VALUES ($1, $2, $3::text[], $4::text[], $5, $6, $7, $8, $8) RETURNING ${WEBHOOK_COLUMNS}`,
    [team, input.url, input.event_types, input.dag_ids ?? null, input.secret, input.enabled !== false, input.description ?? null, now],
  );
  return row!;
}

export async function updateWebhook(db: Db, team: string, id: number, patch: WebhookPatch, now: Date): Promise<WebhookRecord | null> {
  const p = new Params();
  const sets = [`updated_at = ${p.add(now)}`];
  if (patch.url !== undefined) sets.push(`url = ${p.add(patch.url)}`);
  if (patch.event_types !== undefined) sets.push(`event_types = ${p.add(patch.event_types)}::text[]`);
  if (patch.dag_ids !== undefined) sets.push(`dag_ids = ${p.add(patch.dag_ids)}::text[]`);
  if (patch.secret !== undefined) sets.push(`secret = ${p.add(patch.secret)}`);
  if (patch.enabled !== undefined) sets.push(`enabled = ${p.add(patch.enabled)}`);
  if (patch.description !== undefined) sets.push(`description = ${p.add(patch.description)}`);
  const [row] = await query<WebhookRecord>(
    db,
    `UPDATE webhooks SET ${sets.join(", ")} WHERE team = ${p.add(team)} AND id = ${p.add(id)} RETURNING ${WEBHOOK_COLUMNS}`,
    p.values,
  );
  return row ?? null;
}

export async function deleteWebhook(db: Db, team: string, id: number): Promise<boolean> {
  return (await execute(db, "DELETE FROM webhooks WHERE team = $1 AND id = $2", [team, id])) > 0;
}

export async function getWebhook(db: Db, team: string, id: number): Promise<WebhookRecord | null> {
  const [row] = await query<WebhookRecord>(db, `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE team = $1 AND id = $2`, [team, id]);
  return row ?? null;
}

export async function listWebhooks(db: Db, team: string): Promise<WebhookRecord[]> {
  return query<WebhookRecord>(db, `SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE team = $1 ORDER BY id`, [team]);
}

export async function listWebhookDeliveries(
  db: Db,
  team: string,
  webhookId: number,
  opts: ListOptions & { state?: WebhookDeliveryState } = {},
): Promise<Page<WebhookDeliveryRecord>> {
  const where = `WHERE team = $1 AND webhook_id = $2${opts.state ? " AND state = $3" : ""}`;
  const params: unknown[] = opts.state ? [team, webhookId, opts.state] : [team, webhookId];
  const n = params.length;
  const rows = await query<DeliveryRow>(
    db,
    `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries ${where} ORDER BY id DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...params, opts.limit ?? 100, opts.offset ?? 0],
  );
  const [count] = await query<{ n: number }>(db, `SELECT count(*) AS n FROM webhook_deliveries ${where}`, params);
  return { items: rows.map(toDelivery), total: count!.n };
}

export async function redeliverWebhookDelivery(db: Db, team: string, id: number, now: Date): Promise<WebhookDeliveryRecord | null> {
  const [row] = await query<DeliveryRow>(
    db,
    `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = $1, claimed_until = NULL, delivered_at = NULL
      WHERE team = $2 AND id = $3 AND state <> 'pending' RETURNING ${DELIVERY_COLUMNS}`,
    [now, team, id],
  );
  return row ? toDelivery(row) : null;
}

export async function enqueueWebhookDelivery(
  db: Db,
  team: string,
  webhookId: number,
  event: Record<string, unknown>,
  now: Date,
): Promise<number | null> {
  const [row] = await query<{ id: number }>(
    db,
    `INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
     SELECT w.id, w.team, $1, $2, $3, $3 FROM webhooks w WHERE w.team = $4 AND w.id = $5 ${HOLD_WEBHOOKS} RETURNING id`,
    [String(event.type), JSON.stringify(event), now, team, webhookId],
  );
  return row?.id ?? null;
}

/**
 * Outbox inserts hold the webhooks they write rows for (a key-share lock, which only a delete waits for): a webhook
 * deleted while a statement was writing its rows made the rows' foreign key check fail the whole statement, and
 * with it a batch of task ends. Held, the delete waits for the statement's commit and then cascades to its rows;
 * a delete that committed first leaves its webhook out of the join.
 */
const HOLD_WEBHOOKS = "FOR KEY SHARE OF w";

/** Matches an enabled webhook `w` to an event type (a parameter) and a DAG id (an expression). */
const wants = (typeParam: string, dagExpr: string) =>
  `w.enabled AND (w.event_types && ARRAY['*', ${typeParam}]::text[])
   AND (w.dag_ids IS NULL OR ${dagExpr} = ANY(w.dag_ids))`;

export async function enqueueWebhookEvents(db: Db, events: Record<string, unknown>[], now: Date): Promise<number> {
  if (!events.length) return 0;
  const [row] = await query<{ n: number }>(
    db,
    `WITH e AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS e (type, body, team, dag_id, ord)),
          ins AS (INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
                  SELECT w.id, w.team, e.type, e.body, $5, $5 FROM e JOIN webhooks w ON (e.team IS NULL OR w.team = e.team)
                   WHERE ${wants("e.type", "e.dag_id")} ORDER BY e.ord, w.id ${HOLD_WEBHOOKS} RETURNING 1)
     SELECT count(*)::int AS n FROM ins`,
    [
      events.map((e) => String(e.type)),
      events.map((e) => JSON.stringify(e)),
      events.map((e) => (typeof e.team === "string" ? e.team : null)),
      events.map((e) => (typeof e.dag_id === "string" ? e.dag_id : null)),
      now,
    ],
  );
  return row!.n;
}

/**
 * The INSERT of task event outbox rows for the changed task instances in `from` (aliased `alias`, with id, team,
 * dag_id, run_id, task_id, map_index, try_number, state and note): one row per webhook that wants the event. `type`,
 * `time` (ISO text) and `at` (a timestamptz) are SQL expressions, usually parameters; `where` narrows the rows.
 * Every writer of task events builds them here, so the event's shape is written once.
 */
export const taskEventInsertSql = (from: string, alias: string, type: string, time: string, at: string, where = "") =>
  `INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
   SELECT w.id, ${alias}.team, ${type},
          json_build_object('type', ${type}::text, 'team', ${alias}.team, 'dag_id', ${alias}.dag_id, 'run_id', ${alias}.run_id,
                            'task_id', ${alias}.task_id, 'map_index', ${alias}.map_index, 'try_number', ${alias}.try_number,
                            'state', ${alias}.state,
                            'note', ${alias}.note, 'time', ${time}::text)::text,
          ${at}, ${at}
     FROM ${from} JOIN webhooks w ON w.team = ${alias}.team
    WHERE ${where ? `${where} AND ` : ""}${wants(type, `${alias}.dag_id`)}
    ORDER BY ${alias}.id, w.id ${HOLD_WEBHOOKS}`;

/** Outbox rows for task instances just changed in this transaction, built from their new state. */
export async function enqueueTaskEvents(db: Db, ids: number[], now: Date): Promise<void> {
  if (!ids.length) return;
  await execute(db, taskEventInsertSql("task_instances t", "t", "$1", "$2", "$3", "t.id = ANY($4::bigint[])"), [
    TASK_EVENT,
    now.toISOString(),
    now,
    ids,
  ]);
}

/**
 * applyTransitions with its outbox rows in the same statement (no BEGIN/COMMIT around two): the UPDATE's
 * RETURNING carries each changed row's new values, and the INSERT builds the events from them. A transition
 * into the state it came from (a note-only write) raises none, as in the event stream.
 */
export function transitionsWithOutbox(now: Date): ApplyStatement {
  const type = `$${MASKED_FORM.count + 1}`;
  const time = `$${MASKED_FORM.count + 2}`;
  const changed = MASKED_FORM.sql(
    "u.ord, u.from_states, t.id, t.team, t.dag_id, t.run_id, t.task_id, t.map_index, t.try_number, t.state, t.note",
  );
  return {
    sql: `WITH a AS (${changed}),
      ins AS (${taskEventInsertSql("a", "a", type, time, "$1", "a.from_states <> a.state")})
     SELECT ord FROM a`,
    params: [TASK_EVENT, now.toISOString()],
  };
}

/** The outbox row for a run just changed in this transaction (event type decided by the caller). */
export async function enqueueRunEvent(db: Db, id: number, type: string, now: Date): Promise<void> {
  await execute(
    db,
    `INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
     SELECT w.id, r.team, $1,
            json_build_object('type', $1::text, 'team', r.team, 'dag_id', r.dag_id, 'run_id', r.run_id, 'state', r.state,
                              'note', r.note, 'time', $2::text)::text,
            $3, $3
       FROM dag_runs r JOIN webhooks w ON w.team = r.team
      WHERE r.id = $4 AND ${wants("$1", "r.dag_id")}
      ORDER BY w.id ${HOLD_WEBHOOKS}`,
    [type, now.toISOString(), now, id],
  );
}

export async function claimWebhookDeliveries(db: Db, now: Date, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]> {
  const rows = await query<DeliveryRow & { url: string; secret: string }>(
    db,
    `WITH due AS (SELECT id FROM webhook_deliveries
                   WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1)
                     AND webhook_id IN (SELECT id FROM webhooks WHERE enabled)
                   ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
     UPDATE webhook_deliveries d SET attempts = d.attempts + 1, claimed_until = $3
       FROM due, webhooks w WHERE d.id = due.id AND w.id = d.webhook_id
     RETURNING ${DELIVERY_COLUMNS.split(", ")
       .map((c) => `d.${c}`)
       .join(", ")}, w.url, w.secret`,
    [now, limit, new Date(now.getTime() + leaseMs)],
  );
  return rows.map((r) => ({ ...toDelivery(r), url: r.url, secret: r.secret })).sort((a, b) => a.id - b.id);
}

export async function finishWebhookDelivery(
  db: Db,
  id: number,
  attempt: number,
  outcome: WebhookAttemptOutcome,
  now: Date,
): Promise<boolean> {
  const guard = `WHERE id = $1 AND ${notIndexed("attempts = $2 AND state = 'pending'")}`;
  const changed =
    outcome.kind === "delivered"
      ? await execute(
          db,
          `UPDATE webhook_deliveries SET state = 'delivered', last_status = $3, last_error = NULL, delivered_at = $4, claimed_until = NULL ${guard}`,
          [id, attempt, outcome.status, now],
        )
      : outcome.kind === "retry"
        ? await execute(
            db,
            `UPDATE webhook_deliveries SET next_attempt_at = $3, last_status = $4, last_error = $5, claimed_until = NULL ${guard}`,
            [id, attempt, outcome.at, outcome.status, outcome.error],
          )
        : await execute(
            db,
            `UPDATE webhook_deliveries SET state = 'dead', last_status = $3, last_error = $4, claimed_until = NULL ${guard}`,
            [id, attempt, outcome.status, outcome.error],
          );
  return changed > 0;
}

/** The event_types of every enabled webhook. */
export async function enabledEventTypes(db: Db): Promise<string[][]> {
  return (await query<{ event_types: string[] }>(db, "SELECT event_types FROM webhooks WHERE enabled")).map((r) => r.event_types);
}

/**
 * A transaction passed where a write expects the pool: its own `begin` joins the transaction already open
 * (the outer one commits or rolls back everything), so a write that opens a transaction by itself can run
 * together with its outbox INSERT unchanged.
 */
export function joiningTransaction(tx: Db): Pool {
  return new Proxy(tx, {
    get: (target, prop, receiver) => (prop === "begin" ? (fn: (sql: Db) => unknown) => fn(target) : Reflect.get(target, prop, receiver)),
  }) as Pool;
}

/** Every team's webhook secrets as stored (secrets rotation), in a stable order. */
export function listAllWebhookSecrets(db: Db, slice: { limit: number; offset: number }): Promise<StoredWebhookSecret[]> {
  return query<StoredWebhookSecret>(db, "SELECT team, id, secret FROM webhooks ORDER BY id LIMIT $1 OFFSET $2", [
    slice.limit,
    slice.offset,
  ]);
}

/** Secrets rotation: a batch compare-and-set of webhook secrets (inside the rotation's transaction); rows changed. */
export async function rewriteWebhookSecrets(db: Db, rewrites: Extract<SecretRewrite, { webhook_id: number }>[]): Promise<number> {
  if (!rewrites.length) return 0;
  return execute(
    db,
    `UPDATE webhooks w SET secret = u.to_secret
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS u(team, id, from_secret, to_secret)
      WHERE w.team = u.team AND w.id = u.id AND w.secret = u.from_secret`,
    [rewrites.map((r) => r.team), rewrites.map((r) => r.webhook_id), rewrites.map((r) => r.from), rewrites.map((r) => r.to)],
  );
}

/**
 * Retention, one batch: finished rows below the first row created after the later cutoff (ids grow with
 * created_at, so the scan walks the primary key from the oldest and stops there: no index on created_at is
 * needed and a pruned table is not read whole), oldest first. SKIP LOCKED: a row being redelivered is left.
 */
export async function pruneWebhookDeliveries(db: Db, cutoffs: WebhookPruneCutoffs, limit: number): Promise<number> {
  const later = new Date(Math.max(cutoffs.delivered.getTime(), cutoffs.dead.getTime()));
  return execute(
    db,
    `WITH bound AS (SELECT coalesce((SELECT id FROM webhook_deliveries WHERE created_at >= $1 ORDER BY id LIMIT 1),
                                    9223372036854775807) AS id),
          gone AS (SELECT d.id FROM webhook_deliveries d, bound
                    WHERE d.id < bound.id
                      AND ((d.state = 'delivered' AND d.created_at < $2) OR (d.state = 'dead' AND d.created_at < $3))
                    ORDER BY d.id LIMIT $4 FOR UPDATE OF d SKIP LOCKED)
     DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM gone)`,
    [later, cutoffs.delivered, cutoffs.dead, limit],
  );
}
