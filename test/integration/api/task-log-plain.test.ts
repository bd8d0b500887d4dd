/**
 * A try's log as `text/plain` is the whole log, as Airflow 3 answers it (only the JSON form is paged with a
 * continuation_token): past the JSON form's 1,000-line page and past the store's 10,000-line page, with the last
 * line's token in X-Continuation-Token; from `?token=` it is the rest; an explicit `limit` still pages.
 */
import { describe, expect, test } from "bun:test";
import { etlRunStepping, forEachApiStore, NOW, type Harness } from "./harness";

forEachApiStore((makeHarness) => {
  const LOGS = "/api/v2/dags/etl/dagRuns/r1/taskInstances/extract/logs/1";
  const at = (i: number) => new Date(NOW.getTime() + i);
  const line = (i: number) => `[${at(i).toISOString()}] {${i % 7 === 0 ? "stderr" : "stdout"}} line ${i}`;

  /** Run r1's `extract`, running try 1, with `n` log lines written in batches of 1,000 (as an agent sends them). */
  async function withLog(n: number): Promise<Harness> {
    const h = await makeHarness();
    const { ti, step } = await etlRunStepping(h);
    await step("none", "scheduled");
    await step("scheduled", "queued");
    await step("queued", "running", { start_date: NOW });
    for (let first = 0; first < n; first += 1000) {
      const batch = Array.from({ length: Math.min(1000, n - first) }, (_, k) => first + k);
      await h.store.appendLogs(
        ti.id,
        1,
        first,
        batch.map((i) => ({ timestamp: at(i), stream: i % 7 === 0 ? "stderr" : "stdout", line: `line ${i}` })),
      );
    }
    return h;
  }

  const plain = (h: Harness, query = "") => h.call("GET", `${LOGS}${query}`, { headers: { Accept: "text/plain" } });
  const expected = (from: number, to: number) => Array.from({ length: to - from }, (_, k) => `${line(from + k)}\n`).join("");

  describe("task log as text/plain", () => {
    test("is the whole log, past one page of the JSON form and of the store, with the last line's token", async () => {
      const h = await withLog(12_345);
      const res = await plain(h);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toStartWith("text/plain");
      expect(res.headers.get("x-continuation-token")).toBe("12344");
      expect(await res.text()).toBe(expected(0, 12_345));
      // full_content says the same.
      expect(await (await plain(h, "?full_content=true")).text()).toBe(expected(0, 12_345));
    });

    test("arrives a store page at a time, not as one string of the whole log", async () => {
      const h = await withLog(25_000);
      const res = await plain(h);
      const chunks: string[] = [];
      const utf8 = new TextDecoder();
      const reader = res.body!.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) chunks.push(utf8.decode(read.value));
      expect(chunks.join("")).toBe(expected(0, 25_000));
      expect(chunks.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...chunks.map((c) => c.split("\n").length - 1))).toBeLessThanOrEqual(10_000);
    });

    test("from a token: the rest of the log; at the end: nothing, and the same token back", async () => {
      const h = await withLog(2_500);
      const rest = await plain(h, "?token=999");
      expect(rest.headers.get("x-continuation-token")).toBe("2499");
      expect(await rest.text()).toBe(expected(1000, 2500));
      const end = await plain(h, "?token=2499");
      expect(end.status).toBe(200);
      expect(end.headers.get("x-continuation-token")).toBe("2499");
      expect(await end.text()).toBe("");
    });

    test("a try with no log yet: empty, and no token", async () => {
      const h = await withLog(0);
      const res = await plain(h);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-continuation-token")).toBeNull();
      expect(await res.text()).toBe("");
    });

    test("an explicit limit still pages; the JSON form keeps its 1,000-line page and continuation_token", async () => {
      const h = await withLog(2_500);
      const page = await plain(h, "?limit=3");
      expect(page.headers.get("x-continuation-token")).toBe("2");
      expect(await page.text()).toBe(expected(0, 3));
      const json = await h.json("GET", LOGS);
      expect(json.body.content).toHaveLength(1000);
      expect(json.body.continuation_token).toBe("999");
    });
  });
});
