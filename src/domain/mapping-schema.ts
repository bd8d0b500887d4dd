/**
 * The schema of a task's mapping (`expand`, `expand_kwargs`; mapping.ts expands it). Apart from mapping.ts
 * so that the server's start-up path, which expands mapped tasks but parses no DAG, does not evaluate zod.
 */
import { z } from "zod";
import { lazySchema } from "./lazy-schema";

/** The name a mapped value reaches the task under: an env var suffix, a ctx.map key, a template path. */
const MAP_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A record whose keys are mapped argument names, each bad key reported at its own path. */
const namedRecord = <V extends z.ZodType>(value: V) =>
  z.record(z.string(), value).superRefine((o, ctx) => {
    for (const key of Object.keys(o))
      if (!MAP_NAME.test(key))
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "mapped argument names are letters, digits and '_', not starting with a digit",
        });
  });

/** An upstream's XCom: `{ xcom: "task_id", key?: "return_value" }`. The upstream becomes a dependency. */
export const XComRefSchema = lazySchema(() =>
  z.object({ xcom: z.string().min(1, "xcom names an upstream task_id"), key: z.string().min(1).optional() }).strict(),
);
export type XComRef = z.infer<typeof XComRefSchema>;

/** `expand: { name: [literal, …] | { xcom: "upstream" } }`: one instance per combination (a cross product). */
export const ExpandSchema = lazySchema(() =>
  namedRecord(z.union([z.array(z.unknown()), XComRefSchema])).refine(
    (o) => Object.keys(o).length > 0,
    "expand needs at least one argument",
  ),
);
/** `expand_kwargs: [{ name: value, … }, …] | { xcom: "upstream" }`: one instance per object. */
export const ExpandKwargsSchema = lazySchema(() => z.union([z.array(namedRecord(z.unknown())), XComRefSchema]));
