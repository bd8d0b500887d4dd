/**
 * The sensor constants and kinds the scheduler and the poller use, apart from the sensor schema
 * (sensor-spec.ts) so that the server's start-up path does not evaluate zod (test/architecture/startup-graph.test.ts).
 */
import type { AgentSensor, SensorSpec } from "./sensor-spec";

/** Airflow's BaseSensorOperator default timeout: 7 days, in seconds. */
export const DEFAULT_SENSOR_TIMEOUT_SECONDS = 7 * 24 * 3600;
/** Airflow's default poke_interval (60 s) and the floor below which a DAG is refused at load. */
export const DEFAULT_POKE_INTERVAL_SECONDS = 60;
export const MIN_POKE_INTERVAL_SECONDS = 1;

export const SENSOR_KINDS = ["time_delta", "date_time", "http", "file", "sql", "external_task", "bash", "ts"] as const;
export type SensorKind = (typeof SENSOR_KINDS)[number];

/** What a control-plane check knows about the task instance it checks for (the poller builds it). */
export interface SensorCheckContext {
  team: string;
  dag_id: string;
  run_id: string;
  task_id: string;
  logical_date: Date | null;
  run_queued_at: Date;
  now: Date;
}

export const isAgentSensor = (s: SensorSpec): s is AgentSensor => s.kind === "bash" || s.kind === "ts";
