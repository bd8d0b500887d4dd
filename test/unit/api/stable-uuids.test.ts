/**
 * The UUIDs the API gives DAG versions and task instances (Airflow's ids are UUIDs, Leoflow's numbers): the same
 * name gives the same UUID on every server and release, in the v5 layout, so a client may keep them. Pinned values.
 */
import { expect, test } from "bun:test";
import { dagVersionUuid, taskInstanceUuid } from "../../../src/api/serialize";

test("a DAG version's and a task instance's UUIDs are the pinned ones, again and again", () => {
  for (let i = 0; i < 3; i++) {
    expect(dagVersionUuid("etl", 7)).toBe("dd7bedd0-fb8f-5d6d-b1ae-46e71b6eeade");
    expect(taskInstanceUuid(42)).toBe("b019c408-8224-5f24-a502-a8aecdde0d02");
  }
});

test("different names give different UUIDs, each in the v5 layout", () => {
  const ids = [dagVersionUuid("etl", 7), dagVersionUuid("etl", 8), dagVersionUuid("etl2", 7), taskInstanceUuid(7), taskInstanceUuid(8)];
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
