import { expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";

const dag = (requirements: unknown) => ({
  dag_id: "d",
  requirements,
  tasks: [{ task_id: "t", operator: "python", python_code: "print(1)" }],
});

test("a DAG's requirements are kept as written: pip requirement lines, markers included", () => {
  const lines = ["requests==2.32.3", "pyyaml", "tomli>=2; python_version < '3.11'"];
  expect(parseDagSpec(dag(lines)).requirements).toEqual(lines);
  expect(parseDagSpec(dag(undefined)).requirements).toBeUndefined();
});

test.each([["--index-url=https://evil/simple"], ["-e ./pkg"], ["requests\n--extra-index-url x"], [" leading-space"]])(
  "%j is refused at import: pip options come from the server's --pip-index-url and --pip-find-links",
  (line) => {
    expect(() => parseDagSpec(dag([line]))).toThrow(
      'requirements[0]: a requirement is one pip requirement line such as "requests==2.32.3" (no pip options: the index and wheel folder are the server\'s --pip-index-url and --pip-find-links)',
    );
  },
);
