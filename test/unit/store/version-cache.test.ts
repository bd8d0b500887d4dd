/** withVersionCache: a DAG version is read from the store once, or not at all when this process wrote it. */
import { expect, test } from "bun:test";
import type { DagRecord, DagSpec } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";
import type { Store } from "../../../src/store";
import { withVersionCache } from "../../../src/store/version-cache";

const spec = (dag_id: string): DagSpec => parseDagSpec({ dag_id, tasks: [{ task_id: "a", operator: "bash", bash_command: "true" }] });

/** A store double holding versions by id and counting the reads that reach it. */
function versionStore() {
  const stored = new Map<number, string>();
  const reads: number[] = [];
  let next = 1;
  const store = {
    // Content-addressed, as the stores are: the same spec is the same version.
    async upsertDag(_team: string, input: { spec: DagSpec }) {
      const text = JSON.stringify(input.spec);
      const version_id = [...stored].find(([, t]) => t === text)?.[0] ?? next++;
      stored.set(version_id, text);
      return { dag_id: input.spec.dag_id, version_id } as DagRecord;
    },
    async getDagHead(_team: string, dagId: string) {
      const id = [...stored.keys()].reverse().find((k) => (JSON.parse(stored.get(k)!) as DagSpec).dag_id === dagId);
      return id === undefined ? null : { team: "default", dag_id: dagId, version_id: id };
    },
    async getDag() {
      throw new Error("getDag is assembled from getDagHead and the version");
    },
    async getDagVersion(id: number) {
      reads.push(id);
      const text = stored.get(id);
      return text ? (JSON.parse(text) as DagSpec) : null;
    },
  } as unknown as Store;
  return { store, reads };
}

const now = new Date("2026-12-04T00:00:00Z");

test("a version this process wrote is served without a read, as the store would return it", async () => {
  const { store, reads } = versionStore();
  const cached = withVersionCache(store);
  const written = spec("etl");
  const record = await cached.upsertDag("default", { spec: written, fileloc: "/d/etl.json", pausedOnCreate: false, now });
  const read = await cached.getDagVersion(record.version_id);
  expect(reads).toEqual([]);
  expect(read).toEqual(JSON.parse(JSON.stringify(written)));
  expect(read).not.toBe(written); // a copy: the caller's object may change later
});

test("a version read once is not read again; an unknown one is asked for each time", async () => {
  const { store, reads } = versionStore();
  const record = await store.upsertDag("default", { spec: spec("etl"), fileloc: "/d/etl.json", pausedOnCreate: false, now });
  const cached = withVersionCache(store);
  const first = await cached.getDagVersion(record.version_id);
  expect(await cached.getDagVersion(record.version_id)).toBe(first);
  expect(await cached.getDagVersion(99)).toBeNull();
  expect(await cached.getDagVersion(99)).toBeNull();
  expect(reads).toEqual([record.version_id, 99, 99]);
});

test("past its size the least recently used version is read again", async () => {
  const { store, reads } = versionStore();
  const cached = withVersionCache(store, 2);
  const ids: number[] = [];
  for (const d of ["a", "b", "c"])
    ids.push((await cached.upsertDag("default", { spec: spec(d), fileloc: `/d/${d}.json`, pausedOnCreate: false, now })).version_id);
  expect((await cached.getDagVersion(ids[2]!))?.dag_id).toBe("c");
  expect((await cached.getDagVersion(ids[1]!))?.dag_id).toBe("b");
  expect(reads).toEqual([]);
  expect((await cached.getDagVersion(ids[0]!))?.dag_id).toBe("a");
  expect(reads).toEqual([ids[0]!]);
});

test("a DAG read is its row and its version's spec: no spec read once the version is held", async () => {
  const { store, reads } = versionStore();
  const cached = withVersionCache(store);
  const written = await cached.upsertDag("default", { spec: spec("etl"), fileloc: "/d/etl.json", pausedOnCreate: false, now });
  const dag = await cached.getDag("default", "etl");
  expect(dag).toMatchObject({ dag_id: "etl", version_id: written.version_id });
  expect(dag!.spec).toEqual(JSON.parse(JSON.stringify(spec("etl"))));
  expect(reads).toEqual([]);
  expect(await cached.getDag("default", "other")).toBeNull();
});

test("re-syncing an unchanged DAG copies nothing, even once its version was evicted: it is read back when asked", async () => {
  const { store, reads } = versionStore();
  const cached = withVersionCache(store, 1);
  const upsert = (d: string) => cached.upsertDag("default", { spec: spec(d), fileloc: `/d/${d}.json`, pausedOnCreate: false, now });
  const a = await upsert("a");
  await upsert("b"); // evicts a's version
  expect((await upsert("a")).version_id).toBe(a.version_id); // unchanged: not copied again
  expect(reads).toEqual([]);
  expect((await cached.getDagVersion(a.version_id))?.dag_id).toBe("a");
  expect(reads).toEqual([a.version_id]);
});
