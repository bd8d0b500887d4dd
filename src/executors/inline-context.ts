/**
 * What an inline http task's templates are in (its request's strings) and its connection, loaded so that
 * building the request (inline-request.ts) stays pure; the template context is domain/template-values.ts's.
 */
import type { HttpRequestSpec, TaskInstanceRecord, TaskSpec, ConnectionRecord, TemplateSourcePort } from "../domain";

/** Every string of a request that may hold templates: url, header and query values, body, json leaves. */
export function httpTemplateTexts(http: HttpRequestSpec): string[] {
  const texts: string[] = [];
  const scan = (v: unknown): void => {
    if (typeof v === "string") texts.push(v);
    else if (Array.isArray(v)) v.forEach(scan);
    else if (v && typeof v === "object") Object.values(v).forEach(scan);
  };
  scan([http.url, http.headers, http.query, http.body, http.json]);
  return texts;
}

/** The task's connection (of the task's team), when it names one (a missing one is reported by buildHttpCall). */
export function loadConnection(port: TemplateSourcePort, ti: TaskInstanceRecord, task: TaskSpec): Promise<ConnectionRecord | null> {
  const id = task.http?.connection_id;
  return id ? port.getConnection(ti.team, id) : Promise.resolve(null);
}
