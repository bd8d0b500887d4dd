/**
 * Which names hold secrets, after Airflow's DEFAULT_SENSITIVE_FIELDS: a variable key, an `extra` field, a
 * header or a query parameter whose name contains one of these words is masked wherever it is shown.
 */
export const SENSITIVE_NAME_PARTS = [
  "access_token",
  "api_key",
  "apikey",
  "authorization",
  "passphrase",
  "passwd",
  "password",
  "private_key",
  "secret",
  "token",
  "keyfile_dict",
  "service_account",
  "signature",
  "credential",
] as const;

/** What a masked secret is shown as (Airflow's). */
export const MASK = "***";

/**
 * @example isSensitiveName("db_password") // true
 * @example isSensitiveName("X-Api-Key") // true
 */
export function isSensitiveName(name: string): boolean {
  const n = name.toLowerCase().replaceAll("-", "_");
  return SENSITIVE_NAME_PARTS.some((p) => n.includes(p));
}

/** A copy of a JSON value with the values of sensitive keys (at any depth) replaced by MASK. */
export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isSensitiveName(k) ? MASK : redactJson(v)]));
  return value;
}

/**
 * A URL with its passwords replaced by MASK, for logs and error messages (`--db`, Postgres URLs): the one of
 * its user part, and the `password` and `sslpassword` query parameters (libpq takes the password, and the
 * client key's passphrase, there too). The user part ends at the first `@` followed by a plain host, so a
 * password holding an unencoded `@` or `/` is hidden whole; a URL without a password is returned unchanged.
 *
 * @example redactUrl("postgres://leo:s3cret@db:5432/leoflow") // "postgres://leo:***@db:5432/leoflow"
 * @example redactUrl("postgres://leo@db/leoflow?password=s3cret") // "postgres://leo@db/leoflow?password=***"
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^?#]*?@(?=[^@/?#]*(?:[/?#]|$))/i, `$1:${MASK}@`)
    .replace(/([?&](?:ssl)?password=)[^&#]*/gi, `$1${MASK}`);
}
