import type { TaskInstancePatch, TaskTransition } from "../../domain";
import { groupAlike } from "../group-alike";

/**
 * Transitions of a batch that differ only in their id: the first sweep after a start schedules thousands of
 * roots with the same waiting note, which one UPDATE over their ids writes for a fraction of the cost of
 * the batch UPDATE's array per field (apply-sql.ts).
 */
export interface SameChange {
  /** The change every member makes (its id is the first member's). */
  change: TaskTransition;
  /** The members' positions in the batch. */
  positions: number[];
}

/** A batch's positions as groups of equal changes and the rest, each in batch order. */
export interface SameChanges {
  groups: SameChange[];
  rest: number[];
}

/** Smaller groups stay in the batch UPDATE: each group is a statement more, and one more prepared shape. */
export const SAME_CHANGE_MIN = 64;

/**
 * Everything a transition changes and requires, but its id. A mask says which patch fields are set: JSON
 * writes an absent field and a null one alike, and a null one clears the column where an absent one keeps it.
 */
function changeKey(t: TaskTransition, fields: readonly (keyof TaskInstancePatch)[]): string {
  let mask = t.try_number === undefined ? 0 : 1;
  const values: unknown[] = [];
  fields.forEach((f, i) => {
    const v = t.patch?.[f];
    if (v === undefined) return;
    mask |= 2 << i;
    values.push(v instanceof Date ? v.getTime() : v);
  });
  return JSON.stringify([t.to, t.from, t.try_number ?? null, mask, values]);
}

/**
 * Splits a batch naming each row once into groups of `min` or more equal changes and the rest, keeping the
 * batch order within each; `fields`: every patch field (the store's list).
 *
 * @example sameChanges([s(1), q(2), s(3)], FIELDS, 2) // { groups: [{ change: s(1), positions: [0, 2] }], rest: [1] }
 */
export function sameChanges(
  transitions: readonly TaskTransition[],
  fields: readonly (keyof TaskInstancePatch)[],
  min = SAME_CHANGE_MIN,
): SameChanges {
  const { groups, rest } = groupAlike(
    transitions.map((_, i) => i),
    (i) => changeKey(transitions[i]!, fields),
    min,
  );
  return { groups: groups.map((positions) => ({ change: transitions[positions[0]!]!, positions })), rest };
}
