/** Mapping in the SDK: `expand` over `xcomArg(handle)` is plain dag.json, and the mapped upstream becomes a dependency. */
import { expect, test } from "bun:test";
import { dag, xcomArg } from "../../../src/sdk";
import { parseDagSpec } from "../../../src/domain/schemas";

test("expand over xcomArg(handle), expand_kwargs and max_active_tis_per_dag become dag.json fields", () => {
  const d = dag({ dag_id: "sdk_map" }, ({ bash, ts }) => {
    const files = bash({ task_id: "files", bash_command: "ls" });
    ts({ task_id: "load", expand: { file: xcomArg(files) }, max_active_tis_per_dag: 2 }, (ctx) => ctx.map.file);
    ts({ task_id: "pairs", expand_kwargs: xcomArg(files, "pairs") }, (ctx) => ctx.map_index);
  });
  expect(d.spec.tasks.slice(1)).toEqual([
    { task_id: "load", operator: "ts", upstream: [], expand: { file: { xcom: "files" } }, max_active_tis_per_dag: 2 },
    { task_id: "pairs", operator: "ts", upstream: [], expand_kwargs: { xcom: "files", key: "pairs" } },
  ]);
  expect(parseDagSpec(d.spec).tasks.map((t) => [t.task_id, t.upstream])).toEqual([
    ["files", []],
    ["load", ["files"]],
    ["pairs", ["files"]],
  ]);
});
