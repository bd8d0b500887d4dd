/** The UI's filters in the URL (src/ui/app/filters.ts, url-query.ts, router.ts keepDagView) and the edit dialogs' changed fields. */
import { describe, expect, test } from "bun:test";
import { changedFields, updateMask } from "../../../src/ui/app/components/edit-form";
import { dagListFilters, gridFilters } from "../../../src/ui/app/filters";
import { keepDagView } from "../../../src/ui/app/router";
import { withQuery } from "../../../src/ui/app/url-query";

const q = (s: string) => new URLSearchParams(s);

describe("dagListFilters", () => {
  test.each([
    ["", { search: "", paused: "all", tags: [], tagsMatchAll: false, lastRunState: "" }],
    [
      "?search=%20etl%20&paused=false&tags=a&tags=b&tags=a&tags_match_mode=all&last_dag_run_state=failed",
      { search: "etl", paused: "active", tags: ["a", "b"], tagsMatchAll: true, lastRunState: "failed" },
    ],
    // What the API would refuse is left out, not sent.
    ["?paused=maybe&last_dag_run_state=exploded&tags=", { search: "", paused: "all", tags: [], tagsMatchAll: false, lastRunState: "" }],
    ["?paused=true", { search: "", paused: "paused", tags: [], tagsMatchAll: false, lastRunState: "" }],
  ])("%s", (search, want) => expect(dagListFilters(q(search))).toEqual(want as ReturnType<typeof dagListFilters>));
});

describe("gridFilters", () => {
  test.each([
    ["", { runLimit: 25, runState: "", runType: "", runQuery: "" }],
    [
      "?runs=50&run_state=failed&run_type=manual",
      { runLimit: 50, runState: "failed", runType: "manual", runQuery: "&state=failed&run_type=manual" },
    ],
    ["?runs=7&run_state=odd&run_type=asset", { runLimit: 25, runState: "", runType: "", runQuery: "" }],
  ])("%s", (search, want) => expect(gridFilters(q(search))).toEqual(want as ReturnType<typeof gridFilters>));
});

describe("withQuery", () => {
  test.each([
    ["", { tags: ["a", "b"] }, "?tags=a&tags=b"],
    ["?search=x&tags=a", { tags: null }, "?search=x"],
    ["?search=x", { search: "" }, ""],
    ["?a=1&search=x", { search: "y", paused: "true" }, "?a=1&search=y&paused=true"],
  ] as const)("%s + %j → %s", (search, changes, want) => expect(withQuery(search, changes)).toBe(want));
});

describe("keepDagView", () => {
  const on = (pathname: string, search = "") => ({ pathname, search });
  test.each([
    // A link on the same DAG's page keeps the grid's filters, beside its own query.
    [on("/dags/etl", "?run_state=failed&runs=50"), "/dags/etl/runs/r1", "/dags/etl/runs/r1?runs=50&run_state=failed"],
    [on("/dags/etl/runs/r1", "?run_type=manual"), "/dags/etl/runs/r1/tasks/t?try=2", "/dags/etl/runs/r1/tasks/t?try=2&run_type=manual"],
    // A link naming filters of its own, another DAG, or another page: as it is.
    [on("/dags/etl", "?run_state=failed"), "/dags/etl?run_state=success", "/dags/etl?run_state=success"],
    [on("/dags/etl", "?run_state=failed"), "/dags/other", "/dags/other"],
    [on("/dags/etl", "?run_state=failed"), "/dags", "/dags"],
    [on("/dags", "?tags=a"), "/dags/etl", "/dags/etl"],
  ])("%j → %s", (from, href, want) => expect(keepDagView(from, href)).toBe(want));
});

describe("changedFields and updateMask", () => {
  test("only the fields whose value differs, a missing one counting as empty", () => {
    expect(changedFields({ key: "k", value: "a", description: "" }, { key: "k", value: "b", description: "" })).toEqual(["value"]);
    expect(changedFields({ port: "" }, { port: "", password: "" })).toEqual([]);
    expect(updateMask(["slots", "description"])).toBe("?update_mask=slots&update_mask=description");
  });
});
