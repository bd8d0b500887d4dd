/**
 * What a team may be created or changed with, checked the same way by the teams API and `leoflow teams`:
 * quotas are whole numbers ≥ 0 (null: unlimited), the executor policy is the shape of ExecutorPolicy with
 * Kubernetes quantities and a namespace Kubernetes accepts.
 */
import { z } from "zod";
import { ValidationError } from "./errors";
import { lazySchema } from "./lazy-schema";
import type { ExecutorPolicy } from "./teams";

/** "2", "0.5", "500m". */
const CPU = /^(\d+(\.\d+)?|\d+m)$/;
/** "512Mi", "4Gi", "1G", "1000000". */
const MEMORY = /^\d+(\.\d+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
/** RFC 1123 label, as Kubernetes namespaces are. */
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export const ExecutorPolicySchema = lazySchema(() =>
  z
    .object({
      executors: z.array(z.string().min(1)).optional(),
      images: z.array(z.string().min(1)).optional(),
      max_cpu: z.string().regex(CPU, 'a CPU quantity such as "2", "0.5" or "500m"').optional(),
      max_memory: z.string().regex(MEMORY, 'a memory quantity such as "512Mi" or "4Gi"').optional(),
      kubernetes_namespace: z.string().regex(NAMESPACE, "a Kubernetes namespace: lower-case letters, digits and '-'").optional(),
    })
    .strict(),
);

/** A quota: a whole number ≥ 0, or null for unlimited. */
export const QuotaSchema = lazySchema(() => z.number().int().min(0).nullable());

/** Every field of a team but its name; all optional (a PATCH, or defaults on create). */
export const TeamFieldsSchema = lazySchema(() =>
  z
    .object({
      description: z.string().nullable().optional(),
      max_running_tasks: QuotaSchema.optional(),
      max_pool_slots: QuotaSchema.optional(),
      max_inline_requests: QuotaSchema.optional(),
      executor_policy: ExecutorPolicySchema.optional(),
    })
    .strict(),
);

/** The executor policy from its JSON text (`--executor-policy`); ValidationError naming the bad field. */
export function parseExecutorPolicy(json: string): ExecutorPolicy {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new ValidationError(
      `the executor policy is not JSON (${e instanceof Error ? e.message : String(e)}); give an object such as '{"images":["ghcr.io/team/*"]}'`,
    );
  }
  const r = ExecutorPolicySchema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ path: i.path.join(".") || "executor_policy", message: i.message }));
  throw new ValidationError(
    `the executor policy is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")} (fields: executors, images, max_cpu, max_memory, kubernetes_namespace)`,
    issues,
  );
}
