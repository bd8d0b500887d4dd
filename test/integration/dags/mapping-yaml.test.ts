/** A mapped task written in YAML loads to the same DagSpec as dag.json: expand, expand_kwargs, max_active_tis_per_dag. */
import { expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDagFile } from "../../../src/dags";

test("expand over an upstream's XCom and over literals, in YAML", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "leoflow-map-yaml-")), "orders.yaml");
  writeFileSync(
    file,
    `dag_id: orders
tasks:
  - task_id: list_files
    operator: bash
    bash_command: ls
  - task_id: load
    operator: bash
    bash_command: echo "$LEOFLOW_MAP_FILE"
    max_active_tis_per_dag: 4
    expand:
      file: { xcom: list_files }
      mode: [fast, slow]
  - task_id: pairs
    operator: bash
    bash_command: "true"
    expand_kwargs:
      - { a: 1 }
      - { a: 2 }
`,
  );
  const { dags, errors } = await loadDagFile(file);
  expect(errors).toEqual([]);
  const [load, pairs] = dags[0]!.spec.tasks.slice(1);
  expect(load).toMatchObject({
    upstream: ["list_files"],
    max_active_tis_per_dag: 4,
    expand: { file: { xcom: "list_files" }, mode: ["fast", "slow"] },
  });
  expect(pairs?.expand_kwargs).toEqual([{ a: 1 }, { a: 2 }]);
});
