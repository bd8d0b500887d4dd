import { expect, test } from "bun:test";
import { dag } from "../../../src/sdk";

test("env_from is a task field in the SDK and lands in dag.json as written", () => {
  const d = dag({ dag_id: "sdk_env_from" }, ({ bash }) => {
    bash({ task_id: "load", bash_command: 'echo "$DB_HOST"', env_from: { DB_HOST: "conn:warehouse.host", API_KEY: "var:api_key" } });
  });
  expect(d.spec.tasks[0]?.env_from).toEqual({ DB_HOST: "conn:warehouse.host", API_KEY: "var:api_key" });
});

test("a bad env_from reference in the SDK names the DAG, the task and the key", () => {
  expect(() =>
    dag({ dag_id: "sdk_env_from_bad" }, ({ bash }) => {
      bash({ task_id: "load", bash_command: "true", env_from: { API_KEY: "secret:api_key" } });
    }),
  ).toThrow(
    /tasks\[0\]\.env_from\.API_KEY: task "load": "secret:api_key" is not a reference; use var:KEY.*\(dag "sdk_env_from_bad"\)|dag "sdk_env_from_bad": tasks\[0\]\.env_from\.API_KEY: task "load": "secret:api_key" is not a reference/,
  );
});
