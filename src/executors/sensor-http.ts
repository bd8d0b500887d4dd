/**
 * The HTTP sensor's check: one request (built like an inline http task's, connection and auth included),
 * done when the status is accepted (default any 2xx) and, when asked, the value at a JSON path is truthy or
 * equals `equals`, or the body contains a text. A refused connection, a timeout or another status is "not
 * yet" (the service may not be up yet); the sensor's own timeout bounds the wait.
 */
import type { ConnectionRecord, SensorSpec } from "../domain";
import { buildHttpCall } from "./inline-request";
import { sensorTemplates, type SensorAnswer } from "./sensor-checks";
import type { SensorCheckContext } from "../domain";

type HttpSensor = Extract<SensorSpec, { kind: "http" }>;

export async function checkHttpSensor(
  sensor: HttpSensor,
  ctx: SensorCheckContext,
  port: { getConnection(team: string, id: string): Promise<ConnectionRecord | null> },
): Promise<SensorAnswer> {
  const connection = sensor.http.connection_id ? await port.getConnection(ctx.team, sensor.http.connection_id) : null;
  const { call } = buildHttpCall(sensor.http, sensorTemplates(ctx), connection); // throws on a bad URL or a missing connection
  let response: Response;
  try {
    response = await fetch(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal: AbortSignal.timeout(call.timeoutSeconds * 1000),
    });
  } catch {
    return { done: false };
  }
  const check = sensor.check ?? {};
  const accepted = check.status ? check.status.includes(response.status) : response.status >= 200 && response.status < 300;
  if (!accepted) return { done: false };
  if (check.json_path === undefined && check.body_contains === undefined) return { done: true };
  const body = await response.text();
  if (check.body_contains !== undefined && !body.includes(check.body_contains)) return { done: false };
  if (check.json_path === undefined) return { done: true };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { done: false };
  }
  const value = valueAt(json, check.json_path);
  return { done: check.equals !== undefined ? Bun.deepEquals(value, check.equals) : Boolean(value) };
}

/** The value at a dotted path with [n] indices (`data.items[0].ready`), or undefined. */
export function valueAt(json: unknown, path: string): unknown {
  let v: unknown = json;
  for (const seg of path
    .replace(/^\$\.?/, "")
    .split(/\.|(?=\[)/)
    .filter(Boolean)) {
    if (v === null || typeof v !== "object") return undefined;
    const index = /^\[(\d+)\]$/.exec(seg);
    v = index ? (v as unknown[])[Number(index[1])] : (v as Record<string, unknown>)[seg];
  }
  return v;
}
