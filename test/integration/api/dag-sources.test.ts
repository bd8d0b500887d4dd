import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseDagSpec } from "../../../src/domain/schemas";
import { ETL, NOW, REPORT, forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const dir = mkdtempSync(join(tmpdir(), "leoflow-dag-src-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe("dagSources", () => {
    test("the current file's content, as JSON or text/plain; 404 for an older version or a gone file", async () => {
      const h = await makeHarness();
      const file = join(dir, "etl.json");
      writeFileSync(file, JSON.stringify(ETL));
      await h.store.upsertDag("default", { spec: parseDagSpec(ETL), fileloc: file, pausedOnCreate: false, now: NOW });
      const r = await h.json("GET", "/api/v2/dagSources/etl");
      expect(r.body).toEqual({ content: JSON.stringify(ETL), dag_id: "etl", version_number: 1, dag_display_name: "etl" });
      const text = await h.call("GET", "/api/v2/dagSources/etl", { headers: { accept: "text/plain" } });
      expect(await text.text()).toBe(JSON.stringify(ETL));
      expect((await h.call("GET", "/api/v2/dagSources/etl", { headers: { accept: "image/png" } })).status).toBe(406);
      expect((await h.json("GET", "/api/v2/dagSources/etl?version_number=1")).status).toBe(200);
      // version_number is the DAG's own (1, 2 …), not the server-wide version id: report's first version is 1.
      const reportFile = join(dir, "report.json");
      writeFileSync(reportFile, JSON.stringify(REPORT));
      await h.store.upsertDag("default", { spec: parseDagSpec(REPORT), fileloc: reportFile, pausedOnCreate: false, now: NOW });
      expect((await h.store.getDag("default", "report"))!.version_id).toBeGreaterThan(1);
      const report = await h.json("GET", "/api/v2/dagSources/report?version_number=1");
      expect(report).toEqual({ status: 200, body: expect.objectContaining({ dag_id: "report", version_number: 1 }) });
      const old = await h.json("GET", "/api/v2/dagSources/etl?version_number=999");
      expect(old.status).toBe(404);
      rmSync(reportFile);
      expect((await h.json("GET", "/api/v2/dagSources/report")).status).toBe(404); // its file is gone
      expect((await h.json("GET", "/api/v2/dagSources/nope")).status).toBe(404);
    });
  });
});
