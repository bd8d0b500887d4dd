/**
 * Airflow's connection URI (`TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA?key=value`) as the connection's fields,
 * so `connections add ID --conn-uri …` takes what Airflow users already have in AIRFLOW_CONN_* variables.
 * Parts are percent-decoded; query parameters become the JSON `extra` (or `__extra__` holds it whole).
 *
 * @example parseConnectionUri("postgres://bob:s%40t@db:5432/sales") // { conn_type: "postgres", login: "bob", password: "s@t", host: "db", port: 5432, schema: "sales" }
 */
export function parseConnectionUri(uri: string): Record<string, unknown> {
  const m = uri.match(/^([A-Za-z][\w+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/);
  if (!m) throw new Error(`"${uri}" is not a connection URI; write it as TYPE://LOGIN:PASSWORD@HOST:PORT/SCHEMA`);
  const [, scheme, authority = "", path = "", query] = m;
  const at = authority.lastIndexOf("@");
  const userInfo = at >= 0 ? authority.slice(0, at) : null;
  const hostPort = at >= 0 ? authority.slice(at + 1) : authority;
  const fields: Record<string, unknown> = { conn_type: scheme!.replace(/-/g, "_") };
  if (userInfo !== null) {
    const colon = userInfo.indexOf(":");
    fields.login = decode(colon >= 0 ? userInfo.slice(0, colon) : userInfo);
    if (colon >= 0) fields.password = decode(userInfo.slice(colon + 1));
  }
  const port = hostPort.match(/:(\d*)$/);
  const host = port ? hostPort.slice(0, -port[0].length) : hostPort;
  if (host) fields.host = decode(host);
  if (port?.[1]) fields.port = Number(port[1]);
  const schema = path.replace(/^\//, "");
  if (schema) fields.schema = decode(schema);
  if (query) {
    const params = new URLSearchParams(query);
    const whole = params.get("__extra__");
    fields.extra = whole ?? JSON.stringify(Object.fromEntries(params));
  }
  return fields;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new Error(`"${s}" is not valid percent-encoding; encode reserved characters (e.g. @ as %40)`);
  }
}
