/**
 * The end of inline tries (InlineTryStore.finishInlineTries): which XComs the store refuses and what that does
 * to each try's outcome, decided once for both stores (the Postgres store imports it), and SQLite's write of
 * the rest in one transaction.
 */
import type { Database } from "bun:sqlite";
import type { TaskTransition, XComKey } from "../../domain";
import { outcomeAfterXCom } from "../inline-try-outcome";
import { collapse } from "../transition-rounds";
import type { InlineTryEnd } from "../ports/inline-tries";
import type { LogBatch } from "../ports/task-log";
import { appendLogBatches } from "./logs";
import { encodeXComs, upsertEncodedXComs, xcomKeyId } from "./xcom";

/** What goes to the database for a batch of try ends: refused XComs left out and their outcomes turned to failed. */
export interface SettledTryEnds {
  transitions: TaskTransition[];
  /** Per end, the error refusing its XCom, or null. */
  refused: (Error | null)[];
  /** The XComs to store, each with the task instance whose end carries it: stored only if that end applies. */
  xcoms: { key: XComKey; json: string; ti_id: number }[];
  lines: LogBatch[];
}

export function settleTryEnds(ends: readonly InlineTryEnd[], maxBytes: number): SettledTryEnds {
  const withXCom = ends.flatMap((e, i) => (e.xcom ? [{ i, item: e.xcom }] : []));
  const { errors, rows } = encodeXComs(
    withXCom.map((x) => x.item),
    maxBytes,
  );
  const refused: (Error | null)[] = ends.map(() => null);
  for (const [k, x] of withXCom.entries()) refused[x.i] = errors[k] ?? null;
  const endOfKey = new Map(withXCom.map((x) => [xcomKeyId(x.item.key), ends[x.i]!.transition.id]));
  return {
    transitions: ends.map((e, i) => outcomeAfterXCom(e, refused[i] ?? null)),
    refused,
    xcoms: rows.map((r) => ({ ...r, ti_id: endOfKey.get(xcomKeyId(r.key))! })),
    lines: ends.flatMap((e) => (e.lines?.lines.length ? [e.lines] : [])),
  };
}

/**
 * The lines of a settled batch, its transitions, the XComs of the ends that applied, then the `next` starts of
 * those ends (`apply`: a list of transitions with their outbox rows), in one transaction. Answers, per end,
 * whether its transition and its next applied. An end that lost its race (a clear or a mark won) keeps its
 * lines, which belong to its try, but not its XCom: a clear deletes the task's XComs so that its next try does
 * not read them, and a late end of the cleared try would bring its value back (agents' pushes are refused the
 * same way once their try is no longer live). `oneChangePerStart`: no outbox rows are written, so a chain's next
 * start goes as one change (collapsedStart).
 */
export function writeTryEnds(
  db: Database,
  ends: readonly InlineTryEnd[],
  settled: SettledTryEnds,
  now: Date,
  apply: (transitions: TaskTransition[]) => boolean[],
  oneChangePerStart = false,
): { applied: boolean[]; nextApplied: boolean[] } {
  return db
    .transaction(() => {
      const applied = apply(settled.transitions);
      const ended = new Set(settled.transitions.flatMap((t, i) => (applied[i] ? [t.id] : [])));
      // After the ends: a task instance whose end applied exists, and its lines go in without a read.
      appendLogBatches(db, settled.lines, ended);
      upsertEncodedXComs(
        db,
        settled.xcoms.filter((x) => ended.has(x.ti_id)),
        now,
      );
      const nextApplied = ends.map(() => false);
      let nexts = nextsToApply(ends, settled, applied);
      if (oneChangePerStart) nexts = nexts.map(collapsedStart);
      const scheduling = nexts.filter((n) => n.scheduling);
      const scheduled = scheduling.length ? apply(scheduling.map((n) => n.scheduling!)) : [];
      nexts = nexts.filter((n) => !n.scheduling || scheduled[scheduling.indexOf(n)]);
      const done = nexts.length ? apply(nexts.map((n) => n.next)) : [];
      for (const [k, n] of nexts.entries()) nextApplied[n.i] = done[k] === true;
      return { applied, nextApplied };
    })
    .immediate();
}

/**
 * A chain's next start (none → scheduled, then → running) as one change of its row: one UPDATE and one change
 * stamp instead of two. Not when outbox rows are written: each transition is announced (writeTryEnds' caller).
 */
function collapsedStart(n: NextToApply): NextToApply {
  const both = n.scheduling && collapse(n.scheduling, n.next);
  return both ? { i: n.i, next: both } : n;
}

/** A next start to write: its end's position, its move into scheduled when it has one, and the start. */
export type NextToApply = { i: number; scheduling?: TaskTransition; next: TaskTransition };

/**
 * The `next` starts whose ends applied (`applied`: null when not yet known, as in one statement gated in SQL),
 * as success when they ask for it (the settled transition: a refused XCom made it failed).
 */
export function nextsToApply(ends: readonly InlineTryEnd[], settled: SettledTryEnds, applied: readonly boolean[] | null): NextToApply[] {
  return ends.flatMap((e, i) => {
    if (!e.next || (applied && !applied[i])) return [];
    if (e.nextAfterSuccess && settled.transitions[i]!.to !== "success") return [];
    return [{ i, next: e.next, ...(e.nextScheduling ? { scheduling: e.nextScheduling } : {}) }];
  });
}
