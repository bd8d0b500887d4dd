import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../../src/domain/schemas";
import { ETL, NOW, forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-dag-src-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe("dagSources", () => {
    test("the current file's content, as JSON or text/plain; 404 for an older version or a gone file", async () => {
      const h = await makeHarness();
      const file = join(dir, "etl.json");
      writeFileSync(file, JSON.stringify(ETL));
      const dag = await h.store.upsertDag("default", { spec: parseDagSpec(ETL), fileloc: file, pausedOnCreate: false, now: NOW });
      const r = await h.json("GET", "/api/v2/dagSources/etl");
      expect(r.body).toEqual({ content: JSON.stringify(ETL), dag_id: "etl", version_number: dag.version_id, dag_display_name: "etl" });
      const text = await h.call("GET", "/api/v2/dagSources/etl", { headers: { accept: "text/plain" } });
      expect(await text.text()).toBe(JSON.stringify(ETL));
      expect((await h.call("GET", "/api/v2/dagSources/etl", { headers: { accept: "image/png" } })).status).toBe(406);
      expect((await h.json("GET", `/api/v2/dagSources/etl?version_number=${dag.version_id}`)).status).toBe(200);
      const old = await h.json("GET", "/api/v2/dagSources/etl?version_number=999");
      expect(old.status).toBe(404);
      expect((await h.json("GET", "/api/v2/dagSources/report")).status).toBe(404); // /dags/report.json does not exist
      expect((await h.json("GET", "/api/v2/dagSources/nope")).status).toBe(404);
    });
  });
});
