/**
 * Callbacks (Airflow's on_*_callback) and deadline alerts (Airflow 3's DeadlineAlert), as DAG data. A callback
 * is an http request (templated like an http task's), a notifier (a Slack-compatible incoming webhook or an
 * e-mail over SMTP, each through a connection), or a TypeScript function run in a child process. docs/callbacks.md describes the fields and the
 * template names a callback sees.
 */
import { z } from "zod";
// A cycle with dag-spec.ts, harmless: each side reads the other only inside lazySchema builders.
import { HttpRequestSchema } from "./dag-spec";
import { built, lazySchema } from "./lazy-schema";
import { TS_CALLBACK } from "./callback-kinds";

const CALLBACK_FORMS =
  'a callback is { http: { url, ... } }, { notifier: "slack", connection_id, message }, { notifier: "smtp", connection_id, to, subject, message } or { ts: "file.ts:function" } (or a list of them)';

const templated = lazySchema(() => z.string().min(1));

export const CallbackSchema = lazySchema(() =>
  z.union(
    [
      z.object({ http: built(HttpRequestSchema) }).strict(),
      z
        .object({
          notifier: z.literal("slack"),
          /** A connection of type slack: host (or password) is the incoming-webhook URL. */
          connection_id: z.string().min(1),
          message: built(templated),
        })
        .strict(),
      z
        .object({
          notifier: z.literal("smtp"),
          /** A connection of type smtp: host, port, login, password, extra { from, starttls }. */
          connection_id: z.string().min(1),
          to: z.union([built(templated), z.array(built(templated)).min(1)]),
          subject: built(templated),
          message: built(templated),
        })
        .strict(),
      z
        .object({
          ts: z.string().regex(TS_CALLBACK, 'a ts callback is "file.ts:function", the file relative to the DAG file\'s folder'),
        })
        .strict(),
    ],
    { error: () => CALLBACK_FORMS },
  ),
);
export type CallbackSpec = z.infer<typeof CallbackSchema>;

/** One callback or a list of them. */
export const CallbacksSchema = lazySchema(() =>
  z.union([built(CallbackSchema), z.array(built(CallbackSchema)).min(1)], { error: () => CALLBACK_FORMS }),
);

/** The four on_* fields a task (and default_args) may set; a DAG sets on_success and on_failure (its runs). */
export const callbackTaskFields = lazySchema(
  () =>
    ({
      on_success_callback: built(CallbacksSchema),
      on_failure_callback: built(CallbacksSchema),
      on_retry_callback: built(CallbacksSchema),
      on_execute_callback: built(CallbacksSchema),
    }) as const,
);

/** A run not finished `after` seconds past its reference time calls `callback` once (Airflow 3's deadline alert). */
export const DeadlineSchema = lazySchema(() =>
  z
    .object({
      after: z.number().finite().positive(),
      /** logical_date (a manual run without one uses queued_at), or queued_at. */
      reference: z.enum(["logical_date", "queued_at"]).default("logical_date"),
      callback: built(CallbacksSchema),
    })
    .strict(),
);
export type DeadlineSpec = z.infer<typeof DeadlineSchema>;

export const callbackDagFields = lazySchema(
  () =>
    ({
      on_success_callback: built(CallbacksSchema).optional(),
      on_failure_callback: built(CallbacksSchema).optional(),
      deadline: built(DeadlineSchema).optional(),
    }) as const,
);
