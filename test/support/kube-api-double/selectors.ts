/**
 * Label and field selectors as the API server parses them from `?labelSelector=` and `?fieldSelector=`.
 * Pure. Label selectors: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`, `k`, `!k`, comma-joined.
 * Field selectors: `path=v`, `path==v`, `path!=v` over metadata.name, metadata.namespace and, for pods,
 * status.phase and spec.nodeName (the fields the real server indexes).
 *
 * @example parseLabelSelector("app=leoflow,try in (1,2)")({ app: "leoflow", try: "2" }) // true
 */
import { badRequest } from "./status";

type Labels = Record<string, string> | undefined;

export function parseLabelSelector(text: string | null): (labels: Labels) => boolean {
  if (!text?.trim()) return () => true;
  const tests: ((l: Record<string, string>) => boolean)[] = [];
  for (const term of splitTerms(text)) {
    const t = term.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([^\s!=,()]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(t))) {
      const [, key, op, list] = m as unknown as [string, string, string, string];
      const values = list.split(",").map((v) => v.trim());
      tests.push(op === "in" ? (l) => key in l && values.includes(l[key]!) : (l) => !(key in l) || !values.includes(l[key]!));
    } else if ((m = /^([^\s!=,()]+)\s*(==|=|!=)\s*([^\s!=,()]*)$/.exec(t))) {
      const [, key, op, value] = m as unknown as [string, string, string, string];
      tests.push(op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value);
    } else if ((m = /^!\s*([^\s!=,()]+)$/.exec(t))) {
      const key = m[1]!;
      tests.push((l) => !(key in l));
    } else if ((m = /^([^\s!=,()]+)$/.exec(t))) {
      const key = m[1]!;
      tests.push((l) => key in l);
    } else {
      throw badRequest(
        `unable to parse requirement: found '${t}', expected: key, !key, key=value, key!=value, key in (...), key notin (...)`,
      );
    }
  }
  return (labels) => tests.every((test) => test(labels ?? {}));
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of text) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((t) => t.trim());
}

const FIELDS: Record<string, (o: any) => string> = {
  "metadata.name": (o) => o.metadata?.name ?? "",
  "metadata.namespace": (o) => o.metadata?.namespace ?? "",
};
const POD_FIELDS: Record<string, (o: any) => string> = {
  "status.phase": (o) => o.status?.phase ?? "",
  "spec.nodeName": (o) => o.spec?.nodeName ?? "",
  "spec.restartPolicy": (o) => o.spec?.restartPolicy ?? "",
};

export function parseFieldSelector(text: string | null, kind: string): (obj: any) => boolean {
  if (!text?.trim()) return () => true;
  const fields = kind === "Pod" ? { ...FIELDS, ...POD_FIELDS } : FIELDS;
  const tests = text.split(",").map((term) => {
    const m = /^\s*([^\s!=]+)\s*(==|=|!=)\s*(.*?)\s*$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const [, path, op, value] = m as unknown as [string, string, string, string];
    const read = fields[path];
    if (!read) throw badRequest(`field label not supported: ${path}`);
    return op === "!=" ? (o: any) => read(o) !== value : (o: any) => read(o) === value;
  });
  return (obj) => tests.every((t) => t(obj));
}
