import { describe, expect, test } from "bun:test";
import { NOW, forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  describe("GET /api/v2/importErrors", () => {
    test("list with filename_pattern and paging; get one by id; unknown id 404, bad id 422", async () => {
      const h = await makeHarness();
      await h.store.replaceImportErrors("default", "/dags/broken.json", ["tasks.0.operator: unknown operator"], NOW);
      await h.store.replaceImportErrors("default", "/dags/other.yaml", ["schedule: not a cron"], NOW);
      const all = await h.json("GET", "/api/v2/importErrors");
      expect(all.status).toBe(200);
      expect(all.body.total_entries).toBe(2);
      const first = all.body.import_errors[0];
      expect(first).toEqual({
        import_error_id: expect.any(Number),
        timestamp: NOW.toISOString(),
        filename: "/dags/broken.json",
        bundle_name: null,
        stack_trace: "tasks.0.operator: unknown operator",
      });
      const filtered = await h.json("GET", "/api/v2/importErrors?filename_pattern=YAML");
      expect(filtered.body).toMatchObject({ total_entries: 1, import_errors: [{ filename: "/dags/other.yaml" }] });
      expect((await h.json("GET", "/api/v2/importErrors?filename_pattern=%25broken%25")).body.total_entries).toBe(1);
      expect((await h.json("GET", "/api/v2/importErrors?limit=1&offset=1")).body.import_errors.map((e: any) => e.filename)).toEqual([
        "/dags/other.yaml",
      ]);
      expect((await h.json("GET", `/api/v2/importErrors/${first.import_error_id}`)).body).toEqual(first);
      expect(await h.json("GET", "/api/v2/importErrors/9999")).toEqual({
        status: 404,
        body: { detail: "The ImportError with import_error_id: `9999` was not found" },
      });
      expect((await h.json("GET", "/api/v2/importErrors/abc")).status).toBe(422);
    });
  });
});
