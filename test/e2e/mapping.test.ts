/**
 * Dynamic task mapping end to end in the compiled binary: a bash task maps over an upstream's list of 50 and a
 * reduce receives the 50 results in map_index order; an empty list skips the mapped task; a dict fails it
 * naming the upstream and the type; a list over --max-map-length (LEOFLOW_MAX_MAP_LENGTH here) fails it with
 * the count and the limit. The instances and their XComs are read back through the API by map_index.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLeoflow, waitForRun, type Leoflow } from "./harness";

/** make returns `listJson`; each doubles its item; reduce returns the list it received. */
const mappedDag = (dagId: string, listJson: string) => ({
  dag_id: dagId,
  is_paused_upon_creation: false,
  tasks: [
    { task_id: "make", operator: "bash", bash_command: `echo '${listJson}' > "$LEOFLOW_RETURN_VALUE_PATH"` },
    {
      task_id: "each",
      operator: "bash",
      expand: { x: { xcom: "make" } },
      bash_command: 'echo $(( LEOFLOW_MAP_X * 2 )) > "$LEOFLOW_RETURN_VALUE_PATH"',
    },
    { task_id: "reduce", operator: "bash", upstream: ["each"], bash_command: 'echo "$LEOFLOW_XCOM_EACH" > "$LEOFLOW_RETURN_VALUE_PATH"' },
  ],
});

describe("dynamic task mapping (compiled binary)", () => {
  let lf: Leoflow;
  const RUN = (dagId: string) => `/api/v2/dags/${dagId}/dagRuns/r1`;
  const trigger = async (dagId: string) => {
    const r = await lf.api("POST", `/api/v2/dags/${dagId}/dagRuns`, { dag_run_id: "r1", logical_date: "2026-06-01T00:00:00Z" });
    expect(r.status).toBe(200);
    return waitForRun(lf, dagId, "r1", 180_000);
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-e2e-mapping-"));
    mkdirSync(join(dir, "dags"));
    const dag = (spec: { dag_id: string }) => writeFileSync(join(dir, "dags", `${spec.dag_id}.json`), JSON.stringify(spec));
    dag(mappedDag("map50", JSON.stringify(Array.from({ length: 50 }, (_, i) => i))));
    dag(mappedDag("map_empty", "[]"));
    dag(mappedDag("map_string", '"a,b"'));
    dag(mappedDag("map_big", JSON.stringify(Array.from({ length: 100 }, (_, i) => i))));
    lf = await startLeoflow({ dir, env: { LEOFLOW_MAX_MAP_LENGTH: "60" } });
  }, 30_000);
  afterAll(async () => {
    await lf?.stop();
  });

  test("a map over an upstream's list of 50, then a reduce that gets the 50 results in map_index order", async () => {
    const run = await trigger("map50");
    expect(run.state).toBe("success");
    const mapped = await lf.api("GET", `${RUN("map50")}/taskInstances/each/listMapped?limit=100`);
    expect(mapped.status).toBe(200);
    expect(mapped.body.total_entries).toBe(50);
    expect(mapped.body.task_instances.map((t: any) => t.map_index)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(new Set(mapped.body.task_instances.map((t: any) => t.state))).toEqual(new Set(["success"]));

    const seventh = await lf.api("GET", `${RUN("map50")}/taskInstances/each/7`);
    expect(seventh.body).toMatchObject({ task_id: "each", map_index: 7, rendered_map_index: "7", state: "success" });
    const xcom = await lf.api("GET", `${RUN("map50")}/taskInstances/each/xcomEntries/return_value?map_index=7`);
    expect(xcom.body).toMatchObject({ map_index: 7, value: 14 });
    const logs = await lf.api("GET", `${RUN("map50")}/taskInstances/each/logs/1?map_index=7`);
    expect(logs.status).toBe(200);
    // The unexpanded -1 instance is gone: Airflow's 404, with where to look instead.
    const unmapped = await lf.api("GET", `${RUN("map50")}/taskInstances/each`);
    expect(unmapped.status).toBe(404);
    expect(unmapped.body.detail).toContain("listMapped");

    const reduce = await lf.api("GET", `${RUN("map50")}/taskInstances/reduce/xcomEntries/return_value`);
    expect(reduce.body.value).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
  }, 240_000);

  test("an empty list skips the mapped task and its all_success reduce, and the run succeeds", async () => {
    const run = await trigger("map_empty");
    expect(run.state).toBe("success");
    const each = await lf.api("GET", `${RUN("map_empty")}/taskInstances/each`);
    expect(each.body).toMatchObject({ map_index: -1, state: "skipped", note: "mapped over an empty list (x): no instances to run" });
    expect((await lf.api("GET", `${RUN("map_empty")}/taskInstances/reduce`)).body.state).toBe("skipped");
  }, 60_000);

  test("an XCom neither a list nor a dict fails the mapped task naming the upstream and the type", async () => {
    const run = await trigger("map_string");
    expect(run.state).toBe("failed");
    const each = await lf.api("GET", `${RUN("map_string")}/taskInstances/each`);
    expect(each.body).toMatchObject({
      map_index: -1,
      state: "failed",
      note: "task each expands over the XCom of upstream make, which is a string, not a list or an object",
    });
    expect((await lf.api("GET", `${RUN("map_string")}/taskInstances/reduce`)).body.state).toBe("upstream_failed");
  }, 60_000);

  test("a list over --max-map-length fails the mapped task with the count and the limit", async () => {
    const run = await trigger("map_big");
    expect(run.state).toBe("failed");
    const each = await lf.api("GET", `${RUN("map_big")}/taskInstances/each`);
    expect(each.body).toMatchObject({ state: "failed", note: "task each expands to 100 items, over the limit of 60 (--max-map-length)" });
  }, 60_000);
});
