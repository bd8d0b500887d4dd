/**
 * Airflow's list filter parameters shared by the dagRuns and taskInstances routes: `<field>_gte|_gt|_lte|_lt`
 * date and number ranges, as query parameters or batch-body fields, turned into the store's ranges.
 */
import { z } from "zod";
import type { NumberRange, TimeRange } from "../domain";
import { isoDateTime } from "./validate";

const BOUNDS = ["gte", "gt", "lte", "lt"] as const;

/** `{logical_date_gte: isoDateTime.optional(), …}` for each field. */
export function dateRangeShape<F extends string>(fields: readonly F[]) {
  const shape: Record<string, z.ZodOptional<typeof isoDateTime>> = {};
  for (const f of fields) for (const b of BOUNDS) shape[`${f}_${b}`] = isoDateTime.optional();
  return shape as Record<`${F}_${(typeof BOUNDS)[number]}`, z.ZodOptional<typeof isoDateTime>>;
}

/** `{duration_gte: number, …}`; `coerce` for query strings, plain numbers for JSON bodies. */
export function numberRangeShape<F extends string>(field: F, coerce: boolean) {
  const n = coerce ? z.coerce.number({ error: `${field} bounds must be numbers` }) : z.number();
  const shape: Record<string, z.ZodOptional<z.ZodNumber | z.ZodCoercedNumber>> = {};
  for (const b of BOUNDS) shape[`${field}_${b}`] = n.optional();
  return shape as Record<`${F}_${(typeof BOUNDS)[number]}`, z.ZodOptional<z.ZodNumber>>;
}

/** Picks `<field>_<bound>` values out of parsed params; undefined when none was given. */
export function rangeOf<T extends Date | number>(
  q: Record<string, unknown>,
  field: string,
): (T extends Date ? TimeRange : NumberRange) | undefined {
  const r: Record<string, unknown> = {};
  for (const b of BOUNDS) if (q[`${field}_${b}`] != null) r[b] = q[`${field}_${b}`];
  return (Object.keys(r).length ? r : undefined) as never;
}

/** Every range of `fields` at once, keyed by field, for spreading into a store filter. */
export function ranges<F extends string>(q: Record<string, unknown>, fields: readonly F[]): Partial<Record<F, TimeRange>> {
  const out: Partial<Record<F, TimeRange>> = {};
  for (const f of fields) {
    const r = rangeOf<Date>(q, f);
    if (r) out[f] = r;
  }
  return out;
}

/** A list query parameter that may repeat (`?state=a&state=b`), each value checked by `item`. */
export const repeated = <T extends z.ZodType>(item: T) => z.array(item).optional();

/**
 * Airflow's `*_pattern` (its `_SearchParam`): `ilike('%' + value + '%')`, so the value is matched anywhere in the
 * field, case-insensitively, with `%` and `_` still LIKE's wildcards; `~` alone matches everything. Every
 * `*_pattern` parameter goes through this one function so they all behave alike.
 *
 * @example airflowPattern("my_") // "%my_%" (matches "my_run", "my-run" and "is_my_run")
 */
export const airflowPattern = (p: string | undefined): string | undefined => (p === undefined ? undefined : p === "~" ? "%" : `%${p}%`);

/** A `*_pattern` query parameter, parsed into the store's LIKE pattern by airflowPattern. */
export const likePattern = z.string().min(1).optional().transform(airflowPattern);
