/** runVersionTimes: each version's created_at and number read once per store, and only inside the run's own team. */
import { expect, test } from "bun:test";
import { runVersionTimes } from "../../../src/api/version-times";
import type { ListOptions, Page } from "../../../src/domain";
import type { DagVersionRecord } from "../../../src/store";

const CREATED = new Date("2026-01-02T03:04:05Z");
const SHOWN = { created_at: CREATED, version_number: 2 };

/** A store holding version 7 of team "a"; it counts its reads. */
function fakeStore() {
  const reads: [string, number | undefined][] = [];
  return {
    reads,
    async listDagVersions(team: string, f: ListOptions & { version_id?: number }): Promise<Page<DagVersionRecord>> {
      reads.push([team, f.version_id]);
      const items =
        team === "a" && f.version_id === 7 ? [{ version_id: 7, dag_id: "d", created_at: new Date(CREATED), version_number: 2 }] : [];
      return { items, total: items.length };
    },
  };
}

test("a polled run's version is read from the store once, with the same answer every time", async () => {
  const store = fakeStore();
  for (let i = 0; i < 3; i++) expect(await runVersionTimes(store, [{ team: "a", version_id: 7 }, null])).toEqual(new Map([[7, SHOWN]]));
  expect(store.reads).toEqual([["a", 7]]);
});

test("a version is not answered from the cache for a run of another team, nor a missing one remembered", async () => {
  const store = fakeStore();
  await runVersionTimes(store, [{ team: "a", version_id: 7 }]);
  expect(await runVersionTimes(store, [{ team: "b", version_id: 7 }])).toEqual(new Map());
  expect(await runVersionTimes(store, [{ team: "b", version_id: 7 }])).toEqual(new Map());
  expect(store.reads).toEqual([
    ["a", 7],
    ["b", 7],
    ["b", 7],
  ]);
});

test("a caller changing the returned date does not change the next answer", async () => {
  const store = fakeStore();
  (await runVersionTimes(store, [{ team: "a", version_id: 7 }])).get(7)!.created_at.setTime(0);
  (await runVersionTimes(store, [{ team: "a", version_id: 7 }])).get(7)!.created_at.setTime(0);
  expect(await runVersionTimes(store, [{ team: "a", version_id: 7 }])).toEqual(new Map([[7, SHOWN]]));
});
