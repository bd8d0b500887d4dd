/**
 * The UPDATE every batch of task instance transitions goes through on Postgres, in two forms over parallel
 * arrays (graphile-worker style; RETURNING the ordinality tells which inputs applied):
 *
 * - **masked**: every patch field as an array and a per-row mask saying which are set, for a batch whose rows set
 *   different fields (a field absent from a patch keeps its value, one set to null is cleared);
 * - **shaped**: for a batch whose rows all set the same fields (an inline fan-out's ends, or its starts), only those
 *   fields, assigned plainly. One end and its successor's start took 0.64× the masked statement's round trip, a
 *   batch of 12 of each 0.84× (Postgres parses, unnests and evaluates 11 fields' arrays and CASEs less).
 *
 * Both repeat the join key as `t.id = ANY($2)` so the planner reaches the rows through the primary key instead of
 * hashing the whole table, and clear wait_reason unless the patch sets it (a wait belongs to the state it was
 * recorded in).
 */
import { storableText, type TaskInstancePatch, type TaskTransition } from "../../domain";
import { STAMP_CHANGE } from "./change-stamp";
import { arrayParam } from "./client";

/** Patch fields with their SQL types; bit i of a transition's `mask` says field i is set (null included). */
export const PATCH_FIELDS = [
  ["try_number", "int"],
  ["queued_at", "timestamptz"],
  ["start_date", "timestamptz"],
  ["end_date", "timestamptz"],
  ["last_heartbeat", "timestamptz"],
  ["hostname", "text"],
  ["pid", "int"],
  ["executor", "text"],
  ["note", "text"],
  ["max_tries", "int"],
  ["wait_reason", "text"],
] as const satisfies readonly (readonly [keyof TaskInstancePatch, string])[];

export type PatchField = (typeof PATCH_FIELDS)[number][0];
export const PATCH_FIELD_NAMES: readonly PatchField[] = PATCH_FIELDS.map(([f]) => f);
const TYPE_OF = new Map<PatchField, string>(PATCH_FIELDS);

export const patchValue = (v: unknown): unknown => (typeof v === "string" ? storableText(v) : (v ?? null));

/**
 * One more bigint per row (`u.gate`, the parameter after the patch fields) and a condition on it: a row
 * applies only when `condition` holds too (inline-finish.ts: a start only when its slot's end applied).
 */
export type Gate = { condition: string };

/** One way of writing a batch's UPDATE: its SQL and its parameters, which agree on how many there are. */
export interface ApplyForm {
  /** The UPDATE with its parameters numbered from $`at + 1`; a gate's ids are parameter `at + count + 1`. */
  sql(returning: string, at?: number, gate?: Gate): string;
  /** The parameters of `batch`, in order (`count` of them), then `gates` (each row's gate id) when given. */
  params(batch: readonly TaskTransition[], now: Date, gates?: readonly number[]): unknown[];
  /** How many parameters the form takes without a gate: a statement built around it numbers its own after them. */
  readonly count: number;
}

/** A column of the rows' input: its name and SQL type. */
type Input = { name: string; type: string };

/**
 * The SQL of every form: `sets` are the patch assignments, `inputs` the columns after the four fixed ones. The
 * rows come as parallel arrays (`unnest`), or as one row of plain parameters (`single`).
 */
function updateSql(returning: string, at: number, gate: Gate | undefined, sets: string[], inputs: Input[], single: boolean): string {
  const $ = (k: number) => `$${k + at}`;
  const columns = [
    { name: "id", type: "bigint" },
    { name: "from_states", type: "text" },
    { name: "to_state", type: "text" },
    { name: "try_guard", type: "int" },
    ...inputs,
    ...(gate ? [{ name: "gate", type: "bigint" }] : []),
  ];
  // $1 is updated_at; the columns follow from $2.
  const rows = single
    ? `(SELECT ${columns.map((c, i) => `${$(2 + i)}::${c.type} AS ${c.name}`).join(", ")}, 1 AS ord) u`
    : `unnest(${columns.map((c, i) => `${$(2 + i)}::${c.type}[]`).join(", ")})\n  WITH ORDINALITY AS u(${[...columns.map((c) => c.name), "ord"].join(", ")})`;
  return `
UPDATE task_instances t SET
  ${["state = u.to_state", `updated_at = ${$(1)}`, STAMP_CHANGE, ...sets].join(",\n  ")}
FROM ${rows}
WHERE t.id = ${single ? `${$(2)}::bigint` : `ANY(${$(2)}::bigint[])`} AND t.id = u.id
  AND t.state = ANY(string_to_array(u.from_states, ','))
  AND (u.try_guard IS NULL OR t.try_number = u.try_guard)${gate ? `\n  AND ${gate.condition}` : ""}
RETURNING ${returning}`;
}

/** The four arrays every form starts with, after updated_at: ids, from-states (comma-joined), to-states, try guards. */
const fixedParams = (batch: readonly TaskTransition[], now: Date): unknown[] => [
  now,
  batch.map((t) => t.id),
  batch.map((t) => t.from.join(",")),
  batch.map((t) => t.to),
  batch.map((t) => t.try_number ?? null),
];

const MASKED_SETS = PATCH_FIELDS.map(
  ([f], i) => `${f} = CASE WHEN u.mask & ${1 << i} <> 0 THEN u.${f} ELSE ${f === "wait_reason" ? "NULL" : `t.${f}`} END`,
);
const MASKED_INPUTS: Input[] = [{ name: "mask", type: "int" }, ...PATCH_FIELDS.map(([name, type]) => ({ name, type }))];

/** Any batch: each row's mask says which of its patch fields are set. */
export const MASKED_FORM: ApplyForm = {
  sql: (returning, at = 0, gate) => updateSql(returning, at, gate, MASKED_SETS, MASKED_INPUTS, false),
  params(batch, now, gates) {
    // Notes and hostnames come from agents (an error message may carry NUL): kept, as U+FFFD (json-safety.ts).
    // A field no transition sets goes as an empty array: unnest pads it with NULLs, which its mask bit (0) never
    // reads, so neither the driver nor the server encodes or parses a NULL per row for it.
    const fieldParams = PATCH_FIELDS.map(([f]) =>
      batch.some((t) => t.patch?.[f] !== undefined) ? arrayParam(batch.map((t) => patchValue(t.patch?.[f]))) : [],
    );
    return [...fixedParams(batch, now), batch.map(fieldBits), ...fieldParams, ...(gates ? [gates] : [])];
  },
  count: 6 + PATCH_FIELDS.length,
};

/**
 * Rows that all set exactly `fields` (in PATCH_FIELDS order): those are assigned, the rest kept. `single`: a
 * batch of one, whose values go as plain parameters (one end and its successor's start: 0.51–0.60 against
 * 0.73–0.91 ms as arrays, same driver and connection).
 */
function shapedForm(fields: readonly PatchField[], single: boolean): ApplyForm {
  const sets = fields.map((f) => `${f} = u.${f}`);
  if (!fields.includes("wait_reason")) sets.push("wait_reason = NULL");
  const inputs = fields.map((name) => ({ name, type: TYPE_OF.get(name)! }));
  return {
    sql: (returning, at = 0, gate) => updateSql(returning, at, gate, sets, inputs, single),
    params(batch, now, gates) {
      const values = [
        ...fixedParams(batch, now),
        ...fields.map((f) => arrayParam(batch.map((t) => patchValue(t.patch?.[f])))),
        ...(gates ? [gates] : []),
      ];
      // A batch of one: each array's one value (the date already as text, as arrayParam makes it).
      return single ? values.map((v, i) => (i === 0 ? v : (v as unknown[])[0])) : values;
    },
    count: 5 + fields.length,
  };
}

/** Shaped forms by their fields' bits and whether they take one row: a handful of shapes in practice. */
const shapedForms = new Map<number, ApplyForm>();

/** The patch fields `t` sets, as bits in PATCH_FIELDS order: the masked form's per-row mask, and a shape's key. */
function fieldBits(t: TaskTransition): number {
  let bits = 0;
  const patch = t.patch;
  if (patch) for (let i = 0; i < PATCH_FIELDS.length; i++) if (patch[PATCH_FIELDS[i]![0]] !== undefined) bits |= 1 << i;
  return bits;
}

/**
 * The form for `batch` (and, in a statement built from it, for any of its rounds): shaped when every row sets
 * the same patch fields, as plain parameters for a batch of one; else masked.
 */
export function formOf(batch: readonly TaskTransition[]): ApplyForm {
  if (batch.length === 0) return MASKED_FORM;
  const bits = fieldBits(batch[0]!);
  for (let i = 1; i < batch.length; i++) if (fieldBits(batch[i]!) !== bits) return MASKED_FORM;
  const key = bits * 2 + (batch.length === 1 ? 1 : 0);
  let form = shapedForms.get(key);
  if (!form)
    shapedForms.set(
      key,
      (form = shapedForm(
        PATCH_FIELD_NAMES.filter((_, i) => bits & (1 << i)),
        batch.length === 1,
      )),
    );
  return form;
}
