/**
 * Webhooks on SQLite: subscriptions, and the outbox of deliveries. The outbox INSERTs here run inside the
 * transaction of the state change they report (sqlite-store.ts wraps both), and build the event from the
 * changed row itself, matching team, event type and DAG filter in SQL.
 */
import type { Database } from "bun:sqlite";
import type {
  ClaimedWebhookDelivery,
  ListOptions,
  Page,
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

interface WebhookRow {
  id: number;
  team: string;
  url: string;
  event_types: string;
  dag_ids: string | null;
  enabled: number;
  description: string | null;
  created_at: number;
  updated_at: number;
}
const WEBHOOK_COLUMNS = "id, team, url, event_types, dag_ids, enabled, description, created_at, updated_at";
const toWebhook = (r: WebhookRow): WebhookRecord => ({
  id: r.id,
  team: r.team,
  url: r.url,
  event_types: JSON.parse(r.event_types),
  dag_ids: r.dag_ids === null ? null : JSON.parse(r.dag_ids),
  enabled: r.enabled === 1,
  description: r.description,
  created_at: new Date(r.created_at),
  updated_at: new Date(r.updated_at),
});

interface DeliveryRow {
  id: number;
  webhook_id: number;
  team: string;
  event_type: string;
  event: string;
  state: WebhookDeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}
const DELIVERY_COLUMNS =
  "id, webhook_id, team, event_type, event, state, attempts, next_attempt_at, last_status, last_error, created_at, delivered_at";
const toDelivery = (r: DeliveryRow): WebhookDeliveryRecord => ({
  ...r,
  event: JSON.parse(r.event),
  next_attempt_at: new Date(r.next_attempt_at),
  created_at: new Date(r.created_at),
  delivered_at: r.delivered_at === null ? null : new Date(r.delivered_at),
});

export function createWebhook(db: Database, team: string, input: WebhookInput, now: Date): WebhookRecord {
  const row = db
    .query(
      `INSERT INTO webhooks (team, url, event_types, dag_ids, secret, enabled, description, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${WEBHOOK_COLUMNS}`,
    )
    .get(
      team,
      input.url,
      JSON.stringify(input.event_types),
      input.dag_ids ? JSON.stringify(input.dag_ids) : null,
      input.secret,
      input.enabled === false ? 0 : 1,
      input.description ?? null,
      now.getTime(),
      now.getTime(),
    ) as WebhookRow;
  return toWebhook(row);
}

export function updateWebhook(db: Database, team: string, id: number, patch: WebhookPatch, now: Date): WebhookRecord | null {
  const sets = ["updated_at = ?"];
  const params: (string | number | null)[] = [now.getTime()];
  const set = (col: string, v: string | number | null) => (sets.push(`${col} = ?`), params.push(v));
  if (patch.url !== undefined) set("url", patch.url);
  if (patch.event_types !== undefined) set("event_types", JSON.stringify(patch.event_types));
  if (patch.dag_ids !== undefined) set("dag_ids", patch.dag_ids ? JSON.stringify(patch.dag_ids) : null);
  if (patch.secret !== undefined) set("secret", patch.secret);
  if (patch.enabled !== undefined) set("enabled", patch.enabled ? 1 : 0);
  if (patch.description !== undefined) set("description", patch.description);
  const row = db
    .query(`UPDATE webhooks SET ${sets.join(", ")} WHERE team = ? AND id = ? RETURNING ${WEBHOOK_COLUMNS}`)
    .get(...params, team, id) as WebhookRow | null;
  return row ? toWebhook(row) : null;
}

export function deleteWebhook(db: Database, team: string, id: number): boolean {
  return db.query("DELETE FROM webhooks WHERE team = ? AND id = ?").run(team, id).changes > 0;
}

export function getWebhook(db: Database, team: string, id: number): WebhookRecord | null {
  const row = db.query(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE team = ? AND id = ?`).get(team, id) as WebhookRow | null;
  return row ? toWebhook(row) : null;
}

export function listWebhooks(db: Database, team: string): WebhookRecord[] {
  return (db.query(`SELECT ${WEBHOOK_COLUMNS} FROM webhooks WHERE team = ? ORDER BY id`).all(team) as WebhookRow[]).map(toWebhook);
}

export function listWebhookDeliveries(
  db: Database,
  team: string,
  webhookId: number,
  opts: ListOptions & { state?: WebhookDeliveryState } = {},
): Page<WebhookDeliveryRecord> {
  const where = `WHERE team = ? AND webhook_id = ?${opts.state ? " AND state = ?" : ""}`;
  const params: (string | number)[] = opts.state ? [team, webhookId, opts.state] : [team, webhookId];
  const rows = db
    .query(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries ${where} ORDER BY id DESC LIMIT ? OFFSET ?`)
    .all(...params, opts.limit ?? 100, opts.offset ?? 0) as DeliveryRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM webhook_deliveries ${where}`).get(...params) as { n: number };
  return { items: rows.map(toDelivery), total: n };
}

export function redeliverWebhookDelivery(db: Database, team: string, id: number, now: Date): WebhookDeliveryRecord | null {
  const row = db
    .query(
      `UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_attempt_at = ?, claimed_until = NULL, delivered_at = NULL
        WHERE team = ? AND id = ? AND state <> 'pending' RETURNING ${DELIVERY_COLUMNS}`,
    )
    .get(now.getTime(), team, id) as DeliveryRow | null;
  return row ? toDelivery(row) : null;
}

export function enqueueWebhookDelivery(
  db: Database,
  team: string,
  webhookId: number,
  event: Record<string, unknown>,
  now: Date,
): number | null {
  const row = db
    .query(
      `INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
       SELECT id, team, ?, ?, ?, ? FROM webhooks WHERE team = ? AND id = ? RETURNING id`,
    )
    .get(String(event.type), JSON.stringify(event), now.getTime(), now.getTime(), team, webhookId) as { id: number } | null;
  return row?.id ?? null;
}

/** Matches an enabled webhook `w` to an event type (a placeholder) and a DAG id (an expression). */
const wants = (typeParam: string, dagExpr: string) =>
  `w.enabled = 1 AND EXISTS (SELECT 1 FROM json_each(w.event_types) e WHERE e.value IN ('*', ${typeParam}))
   AND (w.dag_ids IS NULL OR EXISTS (SELECT 1 FROM json_each(w.dag_ids) d WHERE d.value = ${dagExpr}))`;

export function enqueueWebhookEvents(db: Database, events: Record<string, unknown>[], now: Date): number {
  const insert = db.query(
    `INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
     SELECT w.id, w.team, ?1, ?2, ?3, ?3 FROM webhooks w
      WHERE (?4 IS NULL OR w.team = ?4) AND ${wants("?1", "?5")}`,
  );
  return db.transaction(() =>
    events.reduce((n, e) => {
      const team = typeof e.team === "string" ? e.team : null;
      const dag = typeof e.dag_id === "string" ? e.dag_id : null;
      return n + insert.run(String(e.type), JSON.stringify(e), now.getTime(), team, dag).changes;
    }, 0),
  )();
}

/** Outbox rows for task instances just changed in this transaction, built from their new state. */
export function enqueueTaskEvents(db: Database, ids: number[], now: Date): void {
  if (!ids.length) return;
  db.query(
    `INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
     SELECT w.id, t.team, ?1,
            json_object('type', ?1, 'team', t.team, 'dag_id', t.dag_id, 'run_id', t.run_id, 'task_id', t.task_id,
                        'map_index', t.map_index, 'try_number', t.try_number, 'state', t.state, 'note', t.note, 'time', ?2),
            ?3, ?3
       FROM task_instances t JOIN webhooks w ON w.team = t.team
      WHERE t.id IN (SELECT value FROM json_each(?4)) AND ${wants("?1", "t.dag_id")}
      ORDER BY t.id, w.id`,
  ).run(TASK_EVENT, now.toISOString(), now.getTime(), JSON.stringify(ids));
}

/** The outbox row for a run just changed in this transaction (event type decided by the caller). */
export function enqueueRunEvent(db: Database, id: number, type: string, now: Date): void {
  db.query(
    `INSERT INTO webhook_deliveries (webhook_id, team, event_type, event, next_attempt_at, created_at)
     SELECT w.id, r.team, ?1,
            json_object('type', ?1, 'team', r.team, 'dag_id', r.dag_id, 'run_id', r.run_id, 'state', r.state, 'note', r.note, 'time', ?2),
            ?3, ?3
       FROM dag_runs r JOIN webhooks w ON w.team = r.team
      WHERE r.id = ?4 AND ${wants("?1", "r.dag_id")}
      ORDER BY w.id`,
  ).run(type, now.toISOString(), now.getTime(), id);
}

export function claimWebhookDeliveries(db: Database, now: Date, limit: number, leaseMs: number): ClaimedWebhookDelivery[] {
  const t = now.getTime();
  return db
    .transaction(() => {
      const rows = db
        .query(
          `UPDATE webhook_deliveries SET attempts = attempts + 1, claimed_until = ?
            WHERE id IN (SELECT id FROM webhook_deliveries
                          WHERE state = 'pending' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
                            AND webhook_id IN (SELECT id FROM webhooks WHERE enabled = 1)
                          ORDER BY next_attempt_at, id LIMIT ?)
            RETURNING ${DELIVERY_COLUMNS}`,
        )
        .all(t + leaseMs, t, t, limit) as DeliveryRow[];
      const hook = db.query("SELECT url, secret FROM webhooks WHERE id = ?");
      return rows
        .sort((a, b) => a.id - b.id)
        .map((r) => ({ ...toDelivery(r), ...(hook.get(r.webhook_id) as { url: string; secret: string }) }));
    })
    .immediate();
}

export function finishWebhookDelivery(db: Database, id: number, attempt: number, outcome: WebhookAttemptOutcome, now: Date): boolean {
  const t = now.getTime();
  const guard = "WHERE id = ? AND attempts = ? AND state = 'pending'";
  const changed =
    outcome.kind === "delivered"
      ? db
          .query(
            `UPDATE webhook_deliveries SET state = 'delivered', last_status = ?, last_error = NULL, delivered_at = ?, claimed_until = NULL ${guard}`,
          )
          .run(outcome.status, t, id, attempt).changes
      : outcome.kind === "retry"
        ? db
            .query(`UPDATE webhook_deliveries SET next_attempt_at = ?, last_status = ?, last_error = ?, claimed_until = NULL ${guard}`)
            .run(outcome.at.getTime(), outcome.status, outcome.error, id, attempt).changes
        : db
            .query(`UPDATE webhook_deliveries SET state = 'dead', last_status = ?, last_error = ?, claimed_until = NULL ${guard}`)
            .run(outcome.status, outcome.error, id, attempt).changes;
  return changed > 0;
}

/** The event_types of every enabled webhook. */
export function enabledEventTypes(db: Database): string[][] {
  return (db.query("SELECT event_types FROM webhooks WHERE enabled = 1").all() as { event_types: string }[]).map((r) =>
    JSON.parse(r.event_types),
  );
}

/** Every team's webhook secrets as stored (secrets rotation), in a stable order. */
export function listAllWebhookSecrets(db: Database, slice: { limit: number; offset: number }): StoredWebhookSecret[] {
  return db
    .query("SELECT team, id, secret FROM webhooks ORDER BY id LIMIT ? OFFSET ?")
    .all(slice.limit, slice.offset) as StoredWebhookSecret[];
}

/** Secrets rotation: one webhook's secret, if it still holds `from`; the number of rows changed (0 or 1). */
export function rewriteWebhookSecret(db: Database, r: { team: string; webhook_id: number; from: string; to: string }): number {
  return db.query("UPDATE webhooks SET secret = ? WHERE team = ? AND id = ? AND secret = ?").run(r.to, r.team, r.webhook_id, r.from)
    .changes;
}

/** Retention, one batch (see postgres/webhooks.ts: the scan stops at the first row created after the later cutoff). */
export function pruneWebhookDeliveries(db: Database, cutoffs: WebhookPruneCutoffs, limit: number): number {
  const later = Math.max(cutoffs.delivered.getTime(), cutoffs.dead.getTime());
  return db
    .query(
      `DELETE FROM webhook_deliveries WHERE id IN (
         SELECT id FROM webhook_deliveries
          WHERE id < coalesce((SELECT id FROM webhook_deliveries WHERE created_at >= ? ORDER BY id LIMIT 1), 9223372036854775807)
            AND ((state = 'delivered' AND created_at < ?) OR (state = 'dead' AND created_at < ?))
          ORDER BY id LIMIT ?)`,
    )
    .run(later, cutoffs.delivered.getTime(), cutoffs.dead.getTime(), limit).changes;
}
