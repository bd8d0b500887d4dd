/**
 * Airflow's default roles and what each may do, after the FAB auth manager's split (security_manager/
 * override.py): Viewer reads DAGs, runs, task instances, logs, XComs, import errors, pools and backfills;
 * User adds changing DAGs (pause, patch, delete) and runs and task instances (trigger, clear, mark, backfill);
 * Op adds variables, connections, pools, XCom writes and the configuration; Admin adds the audit log and users.
 * Each role holds every permission of the ones before it. Pure data; src/api/route-permissions.ts says which
 * permission each route needs.
 */
import type { UserRecord } from "../domain";

export type Role = UserRecord["role"];
/** Least to most powerful. */
export const ROLES: readonly Role[] = ["viewer", "user", "op", "admin"];

export type Permission =
  /** DAGs, their code, versions, warnings, stats and tags; runs, task instances, logs, XComs, import errors, backfills. */
  | "dags:read"
  /** Pause, patch, delete and reparse DAGs. */
  | "dags:edit"
  /** Trigger, clear, mark, patch and delete runs and task instances; create and steer backfills. */
  | "runs:edit"
  | "pools:read"
  | "pools:edit"
  | "variables:read"
  | "variables:edit"
  | "connections:read"
  | "connections:edit"
  | "xcom:edit"
  | "config:read"
  /** Webhook subscriptions and their deliveries (they send events to outside URLs). */
  | "webhooks:manage"
  | "audit_log:read"
  | "users:manage";

const VIEWER: readonly Permission[] = ["dags:read", "pools:read"];
const USER: readonly Permission[] = [...VIEWER, "dags:edit", "runs:edit"];
const OP: readonly Permission[] = [
  ...USER,
  "pools:edit",
  "variables:read",
  "variables:edit",
  "connections:read",
  "connections:edit",
  "xcom:edit",
  "config:read",
  "webhooks:manage",
];
const ADMIN: readonly Permission[] = [...OP, "audit_log:read", "users:manage"];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set(VIEWER),
  user: new Set(USER),
  op: new Set(OP),
  admin: new Set(ADMIN),
};

export function hasPermission(role: Role, permission: Permission): boolean {
  return ROLE_PERMISSIONS[role].has(permission);
}

/** The least powerful role holding the permission (for "ask an admin for the op role"). */
export function leastRoleWith(permission: Permission): Role {
  return ROLES.find((r) => hasPermission(r, permission)) ?? "admin";
}

/** Airflow's spelling of a role, as the users API and `leoflow users` show it. */
export const ROLE_NAMES: Readonly<Record<Role, string>> = { viewer: "Viewer", user: "User", op: "Op", admin: "Admin" };

/** A role from Airflow's name or ours, any case ("Op", "op", "OP"); null when it is none of the four. */
export function parseRole(name: string): Role | null {
  const lower = name.trim().toLowerCase();
  return (ROLES as readonly string[]).includes(lower) ? (lower as Role) : null;
}

export const ROLE_CHOICES = ROLES.map((r) => ROLE_NAMES[r]).join(", ");
