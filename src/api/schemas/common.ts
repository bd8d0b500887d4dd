/**
 * Response pieces shared by every resource, written from Airflow 3's v2 OpenAPI document (field names,
 * types, nullability, required) plus Leoflow's additions. Objects are open (`z.looseObject`): Airflow's
 * clients ignore fields they do not know, and Leoflow adds a few. Where today's Leoflow answer is still
 * short of Airflow's, the schema says `GAP(issue 15)` and accepts what Leoflow sends, so the gap is listed
 * in one greppable place instead of failing every route test; `scripts/api-spec-check.ts` measures the rest.
 */
import { z } from "zod";

/** An ISO 8601 timestamp with offset, as Airflow's `format: date-time`. */
export const DateTime = z.iso.datetime({ offset: true });
export const NullableDateTime = DateTime.nullable();
export const nstr = z.string().nullable();
export const int = z.number().int();

/** Airflow's HTTPExceptionResponse: every non-422 error. */
export const ErrorResponse = z.looseObject({ detail: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]) });

/** FastAPI's HTTPValidationError: a 422 lists each bad field with where it is (`loc`). */
export const ValidationErrorResponse = z.looseObject({
  detail: z.union([z.array(z.looseObject({ loc: z.array(z.union([z.string(), int])), msg: z.string(), type: z.string() })), z.string()]),
});

/** Airflow's TimeDelta object. */
export const TimeDelta = z.looseObject({ __type: z.string().optional(), days: int, seconds: int, microseconds: int });

/** DagVersionResponse. */
export const DagVersion = z.looseObject({
  id: z.uuid(), // derived from (dag_id, version): stable, UUID v5 layout
  version_number: int,
  dag_id: z.string(),
  bundle_name: nstr.optional(),
  bundle_version: nstr.optional(),
  created_at: DateTime,
  bundle_url: nstr.optional(),
  dag_display_name: z.string(),
});

/** `{<items>: [...], total_entries}`: every Airflow list. */
export const collection = <K extends string, T extends z.ZodType>(key: K, item: T) =>
  z.looseObject({ [key]: z.array(item), total_entries: int } as { [P in K]: z.ZodArray<T> } & { total_entries: typeof int });
