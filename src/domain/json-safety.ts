/**
 * What Leoflow stores must be text both stores hold alike. Postgres `text` cannot hold U+0000 (NUL) and
 * `jsonb` refuses `\u0000` and lone surrogates, where SQLite keeps them; so rather than let one store
 * fail (a 500) while the other succeeds, one rule applies to both:
 *
 * - values someone sends (API request bodies: run conf and note, variables, connections, pools, …; XCom
 *   values, pushed by agents or written by the inline runner; run conf built from DAG params) are refused
 *   when a string or key holds NUL or a lone UTF-16 surrogate, or when JSON nests deeper than 64 levels.
 *   The caller learns where (`conf.a.b`) and why: HTTP 400, or InvalidArgument on the agent RPC, which
 *   fails the task with "return value refused: …".
 * - task log lines, output nobody can resend, are kept: NUL and lone surrogates become U+FFFD.
 *
 * @example
 * findJsonProblem({ conf: { a: "x\u0000" } }); // { path: "conf.a", message: "contains U+0000 (NUL) …" }
 * storableText("a\u0000b"); // "a\uFFFDb"
 */
import { ValidationError } from "./errors";

/** Deepest nesting of objects and arrays accepted anywhere (the outermost container is level 1). */
export const MAX_JSON_DEPTH = 64;

export interface JsonProblem {
  /** Where, as `conf.a[2]["odd key"]`; "" for the value itself. */
  path: string;
  /** The whole sentence: what, where, how to fix. */
  message: string;
}

/** Path segments shown before "…" when a too-deep path is reported. */
const SHOWN_SEGMENTS = 8;

export interface JsonCheckOptions {
  /** Deepest nesting allowed (default MAX_JSON_DEPTH). */
  maxDepth?: number;
  /** Path segments naming the value itself in messages, e.g. ["conf"]. */
  root?: string[];
  /** The value is a request body: its own braces are no level, each field counts from 1 (a 64-deep conf passes). */
  envelope?: boolean;
  /** Check only the depth, not the text (JSON kept as a string, where `\u0000` stays six storable characters). */
  depthOnly?: boolean;
}

/** A value the walk met and how it was reached: its path is spelled out only for the problem reported. */
interface Step {
  value: unknown;
  /** Its key or index in the parent; null for the value itself. */
  key: string | number | null;
  parent: Step | null;
  depth: number;
}

/**
 * The first problem that would stop a value from being stored on both stores alike, or null. Walks
 * iteratively (no recursion), so any depth JSON.parse accepted is safe to check; no path is built for a value
 * that has no problem (a DAG file of 50,000 tasks is checked whole on every parse).
 */
export function findJsonProblem(value: unknown, opts: JsonCheckOptions = {}): JsonProblem | null {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const isObject = value !== null && typeof value === "object" && !Array.isArray(value);
  const start = opts.envelope && isObject ? -1 : 0;
  const root = opts.root ?? [];
  /** The path of `step` (and then `last`, a key of it), as segments after the root's. */
  const pathOf = (step: Step, last?: string): string[] => {
    const keys: (string | number)[] = last === undefined ? [] : [last];
    for (let s: Step | null = step; s && s.key !== null; s = s.parent) keys.push(s.key);
    return [...root, ...keys.reverse().map(segment)];
  };
  const stack: Step[] = [{ value, key: null, parent: null, depth: start }];
  while (stack.length) {
    const step = stack.pop()!;
    const v = step.value;
    if (typeof v === "string") {
      if (opts.depthOnly) continue;
      const bad = textProblem(v);
      if (bad) return problem(pathOf(step), bad);
      continue;
    }
    if (v === null || typeof v !== "object") continue;
    const depth = step.depth + 1;
    if (depth > maxDepth) {
      const at = showPath(pathOf(step));
      return {
        path: at,
        message: `JSON nested deeper than ${maxDepth} levels at ${at || "the top level"}: objects and arrays may nest at most ${maxDepth} deep; flatten the value or send it as a string`,
      };
    }
    // Reversed onto the stack, so the first problem in document order is the one reported.
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], key: i, parent: step, depth });
      continue;
    }
    const keys = Object.keys(v);
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!;
      if (!opts.depthOnly) {
        const bad = textProblem(k);
        if (bad) return problem(pathOf(step, k), `(a key) ${bad}`);
      }
      stack.push({ value: (v as Record<string, unknown>)[k], key: k, parent: step, depth });
    }
  }
  return null;
}

/** Throws ValidationError "`<what>.<path>` <why>" when `findJsonProblem` finds one. */
export function assertStorableJson(value: unknown, what: string, maxDepth = MAX_JSON_DEPTH): void {
  const p = findJsonProblem(value, { maxDepth, root: [what] });
  if (p) throw new ValidationError(p.message, [{ path: p.path, message: p.message }]);
}

/** Why a string cannot be stored as it is, or null. */
export function textProblem(s: string): string | null {
  if (s.includes("\u0000"))
    return "contains U+0000 (NUL), which Leoflow does not store (Postgres text and jsonb cannot hold it); remove it, or encode binary data as base64";
  if (!s.isWellFormed()) {
    const unit = loneSurrogate(s);
    return `contains a lone UTF-16 surrogate (U+${unit.toString(16).toUpperCase()}), which is not valid Unicode text; send well-formed UTF-8`;
  }
  return null;
}

/** Throws ValidationError naming `what` when `s` cannot be stored as it is (a note, a key, a field). */
export function assertStorableText(s: string | null | undefined, what: string): void {
  if (s == null) return;
  const bad = textProblem(s);
  if (bad) throw new ValidationError(`${what} ${bad}`, [{ path: what, message: bad }]);
}

/** Output that must not be lost (log lines): NUL and lone surrogates become U+FFFD, the rest is kept. */
export function storableText(s: string): string {
  const wellFormed = s.isWellFormed() ? s : s.toWellFormed();
  return wellFormed.includes("\u0000") ? wellFormed.replaceAll("\u0000", "\uFFFD") : wellFormed;
}

function problem(path: string[], why: string): JsonProblem {
  const at = showPath(path);
  return { path: at, message: `${at || "the value"} ${why}` };
}

function loneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
      else return c;
    } else if (c >= 0xdc00 && c <= 0xdfff) return c;
  }
  return 0xfffd;
}

const IDENT = /^[A-Za-z_$][\w$-]*$/;

function segment(k: string | number): string {
  if (typeof k === "number") return `[${k}]`;
  return IDENT.test(k) ? k : `[${JSON.stringify(k)}]`;
}

function showPath(segments: string[]): string {
  const shown = segments.length > SHOWN_SEGMENTS ? [...segments.slice(0, SHOWN_SEGMENTS), "…"] : segments;
  return shown.reduce((acc, s) => (s.startsWith("[") || s === "…" || acc === "" ? `${acc}${s}` : `${acc}.${s}`), "");
}
