/** The grid's run order (by run_after, as Airflow 3) and where the edit dialog puts a server's refusal. */
import { describe, expect, test } from "bun:test";
import { ApiError } from "../../../src/ui/app/api";
import { errorsByField } from "../../../src/ui/app/components/edit-form";
import { byRunAfter } from "../../../src/ui/app/dag-data";
import type { DagRun } from "../../../src/ui/app/types";

const run = (dag_run_id: string, run_after: string, logical_date: string | null = null) =>
  ({ dag_run_id, run_after, logical_date }) as DagRun;

describe("byRunAfter", () => {
  test("orders by run_after, then logical date (none first), then keeps the given order", () => {
    const runs = [
      run("today", "2026-12-07T10:00:00Z"),
      run("oct-2", "2025-10-02T23:00:00Z", "2025-10-02T00:00:00Z"),
      run("tie-b", "2025-10-05T00:00:00Z", "2025-10-04T00:00:00Z"),
      run("tie-none", "2025-10-05T00:00:00Z"),
      run("tie-a", "2025-10-05T00:00:00Z", "2025-10-03T00:00:00Z"),
      run("same-1", "2025-10-06T00:00:00Z"),
      run("same-2", "2025-10-06T00:00:00Z"),
    ];
    expect(byRunAfter(runs).map((r) => r.dag_run_id)).toEqual(["oct-2", "tie-none", "tie-a", "tie-b", "same-1", "same-2", "today"]);
  });
});

describe("errorsByField", () => {
  const fields = [
    { name: "name", label: "Name" },
    { name: "slots", label: "Slots" },
  ];
  test("a conflict goes under the record's key, unless the key cannot be edited", () => {
    const taken = new ApiError(409, "The Pool with name: `gpu` already exists");
    expect(errorsByField(taken, fields)).toEqual({ name: "The Pool with name: `gpu` already exists" });
    expect(errorsByField(taken, [{ ...fields[0]!, disabled: true }, fields[1]!])).toEqual({
      "": "The Pool with name: `gpu` already exists",
    });
  });
  test("a validation error's items go under the field their loc names; the others under the form", () => {
    const detail = [
      { loc: ["body", "slots"], msg: "must be -1 or more" },
      { loc: ["body", "include_deferred"], msg: "unknown field" },
    ];
    expect(errorsByField(new ApiError(422, detail), fields)).toEqual({
      slots: "must be -1 or more",
      "": "include_deferred: unknown field",
    });
  });
  test("anything else is the form's", () => {
    expect(errorsByField(new ApiError(403, "Forbidden"), fields)).toEqual({ "": "Forbidden" });
    expect(errorsByField(new TypeError("Failed to fetch"), fields)).toEqual({ "": "Failed to fetch" });
  });
});
