import { describe, expect, test } from "bun:test";
import { truthy, valueAt } from "../../../src/executors";

describe("an http sensor's json_path", () => {
  const body = { data: { ready: true, items: [{ id: 7 }, { id: 8, done: false }] }, count: 0 };
  test.each([
    ["data.ready", true],
    ["$.data.ready", true],
    ["data.items[1].id", 8],
    ["data.items[1].done", false],
    ["data.items[5].id", undefined],
    ["count", 0],
    ["data.missing.deeper", undefined],
  ])("%s → %p", (path, expected) => expect(valueAt(body, path)).toEqual(expected));
});

describe("a sql sensor's first cell (Airflow's SqlSensor)", () => {
  test.each([
    [1, true],
    ["yes", true],
    [true, true],
    [2n, true],
    [0, false],
    [0n, false],
    ["0", false],
    ["", false],
    [false, false],
    [null, false],
    [undefined, false],
  ])("%p → %p", (cell, expected) => expect(truthy(cell)).toBe(expected));
});
