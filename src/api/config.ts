/**
 * Airflow's GET /api/v2/config and /config/section/{section}/option/{option}: the server's effective
 * configuration (flags, LEOFLOW_* env and defaults, as `serve` resolved them) in Airflow's Config shape —
 * sections of `{key, value}` options — as JSON, or as an ini-style text with `Accept: text/plain`. Secrets
 * (keys, passwords, the database URL when it holds a password) read `< hidden >`, as Airflow shows them.
 * Who may read it is the route table's (config:read: Op and Admin).
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { NotFoundError, isSensitiveName, redactUrl, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { teamOf } from "./team";
import { parseQuery } from "./validate";

export const HIDDEN = "< hidden >";

interface ConfigSection {
  name: string;
  options: { key: string; value: string }[];
}

/** Section of an option by its name's prefix; the rest is [core] (or [api] / [scheduler] when listed). */
const PREFIX_SECTIONS: [string, string][] = [
  ["docker_", "docker"],
  ["k8s_", "kubernetes"],
  ["kubeconfig", "kubernetes"],
  ["inline_", "inline"],
  ["events_", "events"],
  ["dispatch_", "scheduler"],
];
const API_OPTIONS = new Set([
  "host",
  "port",
  "advertise_url",
  "auth",
  "trusted_proxy_hops",
  "api_max_body",
  "rpc_max_body",
  "task_log_max_bytes",
  "jwt_secret",
  "jwt_previous_secrets",
  "token_ttl",
  "agent_token_ttl",
  "admin_password",
  "test_connection",
]);
const SCHEDULER_OPTIONS = new Set([
  "heartbeat_interval",
  "sweep_interval",
  "agent_lost_after",
  "dispatch_lost_after",
  "orphan_after",
  "leader_poll",
  "leader_takeover_after",
  "shutdown_grace",
  "parallelism",
]);

function sectionOf(key: string): string {
  const hit = PREFIX_SECTIONS.find(([p]) => key.startsWith(p));
  if (hit) return hit[1];
  if (API_OPTIONS.has(key)) return "api";
  if (SCHEDULER_OPTIONS.has(key)) return "scheduler";
  return "core";
}

/** An option's value as Airflow shows it: text, secrets hidden. */
function shown(key: string, value: unknown): string {
  if (value === undefined || value === null) return "";
  // Numbers and flags named like secrets (token_ttl) are settings, not secrets.
  if (isSensitiveName(key) && typeof value !== "number" && typeof value !== "boolean") return HIDDEN;
  const text = typeof value === "string" ? value : JSON.stringify(value);
  if (key === "db" && redactUrl(text) !== text) return HIDDEN;
  return text;
}

/**
 * The configuration grouped into sections (in a fixed order), options by name.
 *
 * @example configSections({ port: 8080, jwt_secret: "x" }) // [{ name: "api", options: [{ key: "jwt_secret", value: "< hidden >" }, { key: "port", value: "8080" }] }]
 */
export function configSections(config: Readonly<Record<string, unknown>>): ConfigSection[] {
  const sections = new Map<string, ConfigSection>();
  for (const key of Object.keys(config).sort()) {
    const name = sectionOf(key);
    const section = sections.get(name) ?? { name, options: [] };
    section.options.push({ key, value: shown(key, config[key]) });
    sections.set(name, section);
  }
  const order = ["core", "api", "scheduler", "events", "inline", "docker", "kubernetes"];
  return [...sections.values()].sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
}

/** Airflow's text form: `[section]` headers and `key = value` lines. */
function asText(sections: ConfigSection[]): string {
  return sections.map((s) => `[${s.name}]\n${s.options.map((o) => `${o.key} = ${o.value}`).join("\n")}\n`).join("\n");
}

/** JSON unless the client asks for text/plain only; an Accept naming neither (nor a wildcard) is a 406, as Airflow. */
function format(c: Context): "json" | "text" {
  const accept = c.req.header("accept") ?? "*/*";
  if (/application\/json|\*\/\*|application\/\*/.test(accept)) return "json";
  if (/text\/plain|text\/\*/.test(accept)) return "text";
  throw new ApiError(406, `Accept: ${accept} is not served here; ask for application/json or text/plain`);
}

export const ConfigQuery = lazySchema(() => z.object({ section: z.string().min(1).optional() }));

/**
 * The configuration as one team may see it: `team_dags_folders` names every team and its folder, so a caller
 * who is not an install admin sees only the entry of the team it acts in (another team's name must not leak).
 */
export function configForTeam(config: Readonly<Record<string, unknown>>, team: string, installAdmin: boolean) {
  const folders = config.team_dags_folders;
  if (installAdmin || !Array.isArray(folders)) return config;
  return { ...config, team_dags_folders: folders.filter((f: { team?: unknown }) => f?.team === team) };
}

export function configRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  const all = (c: Context<ApiEnv>) => configSections(configForTeam(deps.config ?? {}, teamOf(c), c.get("installAdmin") === true));
  const answer = (c: Context<ApiEnv>, sections: ConfigSection[]) =>
    format(c) === "text" ? c.text(asText(sections), 200, { "content-type": "text/plain; charset=utf-8" }) : c.json({ sections });

  app.get("/config", (c) => {
    const { section } = parseQuery(c, ConfigQuery);
    const sections = all(c).filter((s) => section === undefined || s.name === section);
    if (section !== undefined && !sections.length)
      throw new NotFoundError(
        `Section ${section} not found; sections are ${all(c)
          .map((s) => s.name)
          .join(", ")}`,
      );
    return answer(c, sections);
  });

  app.get("/config/section/:section/option/:option", (c) => {
    const { section, option } = c.req.param();
    const found = all(c)
      .find((s) => s.name === section)
      ?.options.find((o) => o.key === option);
    if (!found) throw new NotFoundError(`Option [${section}/${option}] not found; GET /api/v2/config lists every section and option`);
    return answer(c, [{ name: section, options: [found] }]);
  });
  return app;
}
