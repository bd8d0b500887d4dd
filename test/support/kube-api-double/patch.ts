/**
 * PATCH bodies as the API server applies them: RFC 7386 JSON merge patch (null deletes a key) and RFC 6902
 * JSON patch (add, replace, remove, test). Pure. Strategic merge patch is read as a merge patch by the caller.
 *
 * @example mergePatch({ a: 1, b: 2 }, { b: null, c: 3 }) // { a: 1, c: 3 }
 */
import { clone } from "./object-store";
import { badRequest, cause, invalid } from "./status";

export function mergePatch(target: any, patch: any): any {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return clone(patch);
  const out = target && typeof target === "object" && !Array.isArray(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function applyJsonPatch(target: any, ops: any): any {
  if (!Array.isArray(ops)) throw badRequest("json patch must be a list of operations");
  let doc = clone(target);
  for (const op of ops) {
    const path = String(op.path ?? "")
      .split("/")
      .slice(1)
      .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
    const last = path.pop();
    const parent = path.reduce((o: any, p) => (o == null ? o : o[p]), doc);
    if (last === undefined) {
      if (op.op === "replace" || op.op === "add") doc = clone(op.value);
      continue;
    }
    if (parent == null || typeof parent !== "object")
      throw badRequest(`json patch ${op.op} operation does not apply: doc is missing path: "${op.path}"`);
    if (op.op === "test") {
      if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
        throw invalid("", "", [cause.invalid(op.path, op.value, "testing value failed")]);
    } else if (op.op === "remove") {
      if (!(last in parent)) throw badRequest(`json patch remove operation does not apply: doc is missing path: "${op.path}"`);
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (op.op === "add" && Array.isArray(parent)) {
      parent.splice(last === "-" ? parent.length : Number(last), 0, clone(op.value));
    } else if (op.op === "add" || op.op === "replace") {
      parent[last] = clone(op.value);
    } else throw badRequest(`json patch operation ${op.op} is not supported`);
  }
  return doc;
}
