/**
 * Names and label values Kubernetes accepts, made from Leoflow ids that it may not (dag ids up to 250
 * characters, run ids with ':' and '+'). Pure and deterministic: the same try always gets the same pod name,
 * the same run the same PVC name, so a re-dispatch finds what an earlier one made.
 *
 * - object names are DNS-1123 labels: lowercase letters, digits and '-', alphanumeric at both ends, ≤ 63;
 * - label values: letters, digits, '-', '_', '.', alphanumeric at both ends, ≤ 63.
 * When a name or value had to be cut, a digest of the whole original ends it, so two ids that share a long
 * prefix never share a name.
 *
 * @example podName({ dagId: "etl", taskId: "load", taskInstanceId: 7, tryNumber: 2 }, "3f9a0c1d2e4b") // "lf-3f9a0c1d2e4b-etl-load-7-2"
 */
// Bun.CryptoHasher, not node:crypto: evaluating node:crypto (and the node streams under it) costs a server ~5 ms
// of every start (test/architecture/startup-graph.test.ts).
import { DEFAULT_TEAM } from "../../domain";

export const MAX_NAME = 63;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isLabelValue(v: string): boolean {
  return v.length <= MAX_NAME && LABEL_VALUE.test(v);
}

export function isDnsLabel(v: string): boolean {
  return v.length <= MAX_NAME && DNS_LABEL.test(v);
}

function digest(s: string, n: number): string {
  return new Bun.CryptoHasher("sha256").update(s).digest("hex").slice(0, n);
}

/** A label value for any string: kept when valid, else sanitised (and cut with a digest when too long). */
export function labelValue(raw: string): string {
  if (isLabelValue(raw)) return raw;
  const hash = digest(raw, 8);
  const body = trimEnds(trimEnds(raw.replace(/[^A-Za-z0-9_.-]/g, "_")).slice(0, MAX_NAME - hash.length - 1));
  return body ? `${body}-${hash}` : hash;
}

/** `readable` parts (cut when needed), then `unique` parts (never cut), joined by '-', as a DNS-1123 label. */
export function dnsName(readable: string[], unique: (string | number)[] = []): string {
  const head = readable.map(dnsPart).filter(Boolean).join("-");
  const tail = unique
    .map((u) => dnsPart(String(u)))
    .filter(Boolean)
    .join("-");
  const whole = [head, tail].filter(Boolean).join("-");
  if (whole.length <= MAX_NAME && readable.every((r) => dnsPart(r) === r)) return whole;
  // Lowercasing and replacing characters can merge two ids ("A_b", "a.b"): a digest of the originals tells them apart.
  const hash = digest(JSON.stringify([readable, unique]), 8);
  const room = MAX_NAME - tail.length - hash.length - (tail ? 2 : 1);
  const cut = head.slice(0, Math.max(0, room)).replace(/-+$/, "");
  return [cut, hash, tail].filter(Boolean).join("-");
}

/** The pod of one try, and its token Secret (a Secret may share its pod's name: names are per kind). */
export function podName(req: { dagId: string; taskId: string; taskInstanceId: number; tryNumber: number }, instance: string): string {
  return dnsName(["lf", instance, req.dagId, req.taskId], [req.taskInstanceId, req.tryNumber]);
}

/**
 * The staging PVC of a run: the same for every try, clear and re-run of that run on this instance. Two
 * teams' runs may share a DAG id and run id, so the team is in the digest (not for the default team, whose
 * PVCs keep the names they had before teams).
 */
export function stagingPvcName(team: string, dagId: string, runId: string, instance: string): string {
  const key = team === DEFAULT_TEAM ? `${instance}\0${dagId}\0${runId}` : `${instance}\0${team}\0${dagId}\0${runId}`;
  return dnsName(["lf-stg", instance, dagId], [digest(key, 12)]);
}

function dnsPart(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-+|-+$/g, "");
}

function trimEnds(s: string): string {
  return s.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}
