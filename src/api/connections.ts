/**
 * Connections (Airflow's /api/v2/connections): list, get, create, patch, delete. Passwords never leave the
 * API (shown as "***" when set) and sensitive fields of `extra` are masked, as Airflow does; only agents (over
 * RPC, with a task's token) and the inline runner read them in the clear. Password and extra are stored
 * encrypted; `is_encrypted` / `is_extra_encrypted` (the names of Airflow's model columns) say whether they
 * are, read-only (accepted and ignored in a body, so a GET's answer can be sent back).
 */
import { Hono } from "hono";
import { z } from "zod";
import { CONNECTION_NOUN, MASK, NotFoundError, isSensitiveName, redactJson, type ConnectionRecord, built, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { pagingQuery, parseBody, parseQuery } from "./validate";
import { unsealed } from "./sealed";
import { bulkBody, bulkResponse, resolveBulkActions } from "./bulk";
import { testConnection } from "./connection-test";
import { teamOf } from "./team";
import { airflowPattern } from "./list-params";

const FIELDS = ["conn_type", "description", "host", "login", "schema", "port", "password", "extra"] as const;
type Field = (typeof FIELDS)[number];

const extraJson = lazySchema(() =>
  z
    .string()
    .nullable()
    .optional()
    .refine((s) => s == null || isJsonObject(s), 'extra must be a JSON object in a string, e.g. "{\\"token\\": \\"…\\"}"'),
);

export const ConnectionBody = lazySchema(() =>
  z
    .object({
      connection_id: z
        .string()
        .min(1)
        .max(200)
        .regex(/^[\w.-]+$/, "connection_id may contain letters, digits, '_', '.' and '-'"),
      conn_type: z.string().min(1),
      description: z.string().nullable().optional(),
      host: z.string().nullable().optional(),
      login: z.string().nullable().optional(),
      schema: z.string().nullable().optional(),
      port: z.number().int().min(0).max(65535).nullable().optional(),
      password: z.string().nullable().optional(),
      extra: built(extraJson),
      is_encrypted: z.boolean().optional(),
      is_extra_encrypted: z.boolean().optional(),
    })
    .strict(),
);
type Body = z.output<typeof ConnectionBody>;

export const BulkConnectionsBody = lazySchema(() => bulkBody(built(ConnectionBody), "connection_id"));

export const ListQuery = lazySchema(() => z.object({ ...pagingQuery, connection_id_pattern: z.string().min(1).optional() }));
export const MaskQuery = lazySchema(() => z.object({ update_mask: z.array(z.enum(FIELDS)).optional() }));

function isJsonObject(s: string): boolean {
  try {
    const v = JSON.parse(s);
    return !!v && typeof v === "object" && !Array.isArray(v);
  } catch {
    return false;
  }
}

export function serializeConnection(c: ConnectionRecord) {
  return {
    connection_id: c.connection_id,
    conn_type: c.conn_type,
    description: c.description,
    host: c.host,
    login: c.login,
    schema: c.schema,
    port: c.port,
    password: c.password == null ? null : MASK,
    extra: c.extra == null ? null : isJsonObject(c.extra) ? JSON.stringify(redactJson(JSON.parse(c.extra))) : MASK,
    is_encrypted: c.is_encrypted ?? false,
    is_extra_encrypted: c.is_extra_encrypted ?? false,
  };
}

/** A new connection of the body's id and type, every other field null. */
const empty = (body: Body): ConnectionRecord => ({
  connection_id: body.connection_id,
  conn_type: body.conn_type,
  description: null,
  host: null,
  login: null,
  password: null,
  schema: null,
  port: null,
  extra: null,
});

/** Without a mask, only fields the body sets change, and a password read as "***" and sent back stays. */
const changedFields = (body: Body): Field[] => FIELDS.filter((f) => f in body && !(f === "password" && body.password === MASK));

function fromBody(body: Body, fields: Iterable<Field>, base: ConnectionRecord): ConnectionRecord {
  const next = { ...base };
  for (const f of fields) (next as Record<string, unknown>)[f] = f === "conn_type" ? body.conn_type : (body[f] ?? null);
  if (next.extra != null && base.extra != null && next.extra !== base.extra) next.extra = keepMaskedSecrets(next.extra, base.extra);
  return next;
}

/**
 * A client that read an extra (secrets shown as "***") and sent it back did not mean to overwrite them: each
 * sensitive field still "***" keeps its stored value.
 *
 * @example keepMaskedSecrets('{"token":"***","region":"us"}', '{"token":"t0k","region":"eu"}') // '{"token":"t0k","region":"us"}'
 */
export function keepMaskedSecrets(sent: string, stored: string): string {
  if (!isJsonObject(sent) || !isJsonObject(stored) || !sent.includes(MASK)) return sent;
  const merge = (s: unknown, old: unknown): unknown => {
    if (!s || typeof s !== "object" || Array.isArray(s) || !old || typeof old !== "object" || Array.isArray(old)) return s;
    const o = old as Record<string, unknown>;
    return Object.fromEntries(
      Object.entries(s).map(([k, v]) => [k, v === MASK && isSensitiveName(k) && Object.hasOwn(o, k) ? o[k] : merge(v, o[k])]),
    );
  };
  return JSON.stringify(merge(JSON.parse(sent), JSON.parse(stored)));
}

export function connectionRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();
  const notFound = (id: string) => new NotFoundError(`The Connection with connection_id: \`${id}\` was not found`);

  app.get("/connections", async (c) => {
    const q = parseQuery(c, ListQuery);
    const page = await unsealed(
      store.listConnections(teamOf(c), {
        limit: q.limit,
        offset: q.offset,
        order_by: q.order_by,
        id_pattern: airflowPattern(q.connection_id_pattern),
      }),
      deps.logger,
    );
    return c.json({ connections: page.items.map(serializeConnection), total_entries: page.total });
  });

  /** Airflow's bulk_connections. An update changes the fields its entity sets; a password sent back as "***" is kept. */
  app.patch("/connections", async (c) => {
    const body = await parseBody(c, BulkConnectionsBody);
    const team = teamOf(c);
    // In order, each over what the earlier actions leave (a create then an update keeps the created password).
    const actions = await resolveBulkActions<Body, ConnectionRecord>(body.actions, {
      noun: CONNECTION_NOUN,
      keyOf: (e) => e.connection_id,
      read: (id) => unsealed(store.getConnection(team, id), deps.logger),
      build: (e, old, action) => (action === "update" && old ? fromBody(e, changedFields(e), old) : fromBody(e, FIELDS, empty(e))),
    });
    const results = await store.bulkConnections(team, actions, deps.now());
    deps.logger.info("connections bulk-changed", { actions: actions.length, by: c.get("user")?.username ?? null });
    return c.json(bulkResponse(actions, results));
  });

  /** The body as sent, over the team's stored connection of that id when there is one (as a single PATCH without a mask). */
  async function merged(team: string, body: Body): Promise<ConnectionRecord> {
    const old = await unsealed(store.getConnection(team, body.connection_id), deps.logger);
    if (!old) return fromBody(body, FIELDS, empty(body));
    return fromBody(body, changedFields(body), old);
  }

  /** Airflow's test_connection; 403 unless the operator enabled it. Secrets sent back as "***" test the stored ones. */
  app.post("/connections/test", async (c) => {
    if (!deps.testConnection)
      throw new ApiError(
        403,
        "Testing connections is disabled in Leoflow configuration. Contact your deployment admin to enable it (serve --test-connection=Enabled).",
      );
    const body = await parseBody(c, ConnectionBody);
    const conn = await merged(teamOf(c), body);
    const result = await testConnection(conn);
    deps.logger.info("connection tested", {
      connection_id: body.connection_id,
      status: result.status,
      by: c.get("user")?.username ?? null,
    });
    return c.json(result);
  });

  app.get("/connections/:connection_id", async (c) => {
    const id = c.req.param("connection_id");
    const conn = await unsealed(store.getConnection(teamOf(c), id), deps.logger);
    if (!conn) throw notFound(id);
    return c.json(serializeConnection(conn));
  });

  app.post("/connections", async (c) => {
    const body = await parseBody(c, ConnectionBody);
    const conn = await store.putConnection(teamOf(c), fromBody(body, FIELDS, empty(body)), deps.now(), { onlyIfAbsent: true });
    deps.logger.info("connection created", { connection_id: conn.connection_id, by: c.get("user")?.username ?? null });
    return c.json(serializeConnection(conn), 201);
  });

  app.patch("/connections/:connection_id", async (c) => {
    const id = c.req.param("connection_id");
    const { update_mask } = parseQuery(c, MaskQuery, ["update_mask"]);
    const body = await parseBody(c, ConnectionBody);
    if (body.connection_id !== id)
      throw new ApiError(400, `The connection_id in the request body (${body.connection_id}) does not match the URL parameter (${id})`);
    const old = await unsealed(store.getConnection(teamOf(c), id), deps.logger);
    if (!old) throw notFound(id);
    // Without a mask, only fields the body sets change: a client that read "***" and sent the rest back
    // without a password keeps the stored one.
    const fields = update_mask ?? changedFields(body);
    const conn = await store.putConnection(teamOf(c), fromBody(body, fields, old), deps.now());
    deps.logger.info("connection updated", { connection_id: id, fields: [...fields].join(","), by: c.get("user")?.username ?? null });
    return c.json(serializeConnection(conn));
  });

  app.delete("/connections/:connection_id", async (c) => {
    const id = c.req.param("connection_id");
    if (!(await store.deleteConnection(teamOf(c), id))) throw notFound(id);
    deps.logger.info("connection deleted", { connection_id: id, by: c.get("user")?.username ?? null });
    return c.body(null, 204);
  });

  return app;
}
