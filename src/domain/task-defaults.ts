/**
 * Task field defaults, apart from the DAG schema (dag-spec.ts) that applies them: the scheduler reads them
 * on the server's start-up path, which does not evaluate zod (test/architecture/startup-graph.test.ts).
 */

/** What a task field is when neither the task nor default_args sets it. */
export const TASK_DEFAULTS = {
  operator: undefined,
  trigger_rule: "all_success",
  retries: 0,
  retry_delay: 300,
  retry_exponential_backoff: false,
  pool: "default_pool",
  pool_slots: 1,
  priority_weight: 1,
  weight_rule: "downstream",
  depends_on_past: false,
} as const;
