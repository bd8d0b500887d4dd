/** Every response schema; importing this module registers every documented route (src/api/openapi-registry.ts). */
import "./backfills";
import "./dag-runs";
import "./dags";
import "./server";
import "./task-instances";
import "./variables-connections-pools";
import "./xcom-logs";
import "./additions";

export * from "./common";
import "./webhooks";
