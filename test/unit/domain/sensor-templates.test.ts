/** A bash sensor's check is a template like a bash task's command (Airflow's BashSensor templates bash_command). */
import { expect, test } from "bun:test";
import { renderTaskFields, taskTemplateTexts, type TaskSpec } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const sensorTask = (bash_command: string): TaskSpec =>
  parseDagSpec({
    dag_id: "s",
    tasks: [{ task_id: "wait", operator: "sensor", sensor: { kind: "bash", bash_command }, poke_interval: 1, timeout: 5 }],
  }).tasks[0]!;

test("a bash sensor's command is rendered for the agent with the run's values", () => {
  const task = sensorTask("test -f /data/{{ run_id }}.done");
  expect(taskTemplateTexts(task)).toEqual(["test -f /data/{{ run_id }}.done"]);
  const ctx = { dag_id: "s", run_id: "r1", task_id: "wait", try_number: 1, logical_date: null, params: {}, conf: {}, map_index: -1 };
  const rendered = renderTaskFields(task, ctx as never);
  expect(rendered.sensor).toEqual({ kind: "bash", bash_command: "test -f /data/r1.done" });
});

test("a template a value cannot fix in a sensor's command or file path is an import error naming the field", () => {
  expect(() => sensorTask("echo {{ run_id | shout }}")).toThrow(
    'tasks[0].sensor.bash_command: task "wait": template {{ run_id | shout }} in sensor.bash_command: unknown filter "shout"',
  );
  expect(() =>
    parseDagSpec({
      dag_id: "f",
      tasks: [{ task_id: "wait", operator: "sensor", sensor: { kind: "file", path: "/data/{{ ds | shout }}" }, poke_interval: 1 }],
    }),
  ).toThrow('tasks[0].sensor.path: task "wait": template {{ ds | shout }} in sensor.path: unknown filter "shout"');
});
