/**
 * Which form the Postgres store writes a batch of transitions in (src/store/postgres/apply-sql.ts): rows that all
 * set the same patch fields are written naming only those; any other batch through every field and a mask. The
 * rows each form writes are checked on a real database by the store contract (contract-same-changes.ts).
 */
import { describe, expect, test } from "bun:test";
import type { TaskTransition } from "../../src/domain";
import { formOf, MASKED_FORM } from "../../src/store/postgres/apply-sql";

const now = new Date("2026-01-01T00:00:00Z");
const end = (id: number, note: string | null): TaskTransition => ({
  id,
  from: ["running"],
  to: note ? "failed" : "success",
  try_number: 1,
  patch: { end_date: now, note },
});

describe("the form of a batch's UPDATE", () => {
  test("rows setting the same fields: only those are assigned, one array each, and wait_reason is cleared", () => {
    const batch = [end(1, null), end(2, "boom")];
    const form = formOf(batch);
    expect(form).not.toBe(MASKED_FORM);
    const sql = form.sql("u.ord");
    expect(sql).toContain("end_date = u.end_date");
    expect(sql).toContain("note = u.note");
    expect(sql).toContain("wait_reason = NULL");
    expect(sql).not.toContain("mask");
    expect(sql).not.toContain("hostname");
    const params = form.params(batch, now);
    expect(params).toHaveLength(form.count);
    expect(params.slice(1)).toEqual([
      [1, 2],
      ["running", "running"],
      ["success", "failed"],
      [1, 1],
      [now.toISOString(), now.toISOString()],
      [null, "boom"],
    ]);
  });

  test("a field set to null counts as set; one absent from a row's patch makes the batch masked", () => {
    expect(formOf([end(1, null), end(2, null)])).not.toBe(MASKED_FORM);
    const noNote: TaskTransition = { id: 3, from: ["running"], to: "success", try_number: 1, patch: { end_date: now } };
    expect(formOf([end(1, null), noNote])).toBe(MASKED_FORM);
    expect(formOf([end(1, null), { id: 4, from: ["none"], to: "scheduled" }])).toBe(MASKED_FORM);
  });

  test("a shaped form numbers its parameters from `at` and puts a gate's ids right after its own", () => {
    const batch = [end(1, null), end(2, null)];
    const form = formOf(batch);
    const sql = form.sql("u.ord", 10, { condition: "u.gate IN (SELECT id FROM a)" });
    expect(sql).toContain("updated_at = $11");
    expect(sql).toContain(`$${10 + form.count + 1}::bigint[]`);
    expect(sql).not.toContain(`$${10 + form.count + 2}`);
    expect(sql).toContain("AND u.gate IN (SELECT id FROM a)");
    expect(form.params(batch, now, [7, 8]).at(-1)).toEqual([7, 8]);
  });

  test("a batch of one goes as one row of plain parameters, its gate one id", () => {
    const batch = [end(1, "boom")];
    const form = formOf(batch);
    expect(form).not.toBe(formOf([end(1, "boom"), end(2, null)]));
    const sql = form.sql("u.ord", 0, { condition: "u.gate IN (SELECT id FROM a)" });
    expect(sql).not.toContain("unnest");
    expect(sql).toContain("WHERE t.id = $2::bigint AND t.id = u.id");
    expect(sql).toContain(`$${form.count + 1}::bigint AS gate`);
    expect(form.params(batch, now, [7])).toEqual([now, 1, "running", "failed", 1, now.toISOString(), "boom", 7]);
  });

  test("a patch-less batch is shaped too: state and updated_at only", () => {
    const batch: TaskTransition[] = [
      { id: 5, from: ["none"], to: "upstream_failed" },
      { id: 6, from: ["none"], to: "upstream_failed" },
    ];
    const form = formOf(batch);
    expect(form.count).toBe(5);
    expect(form.sql("u.ord")).toContain("unnest($2::bigint[], $3::text[], $4::text[], $5::int[])");
    expect(form.params(batch, now)).toHaveLength(5);
  });
});
