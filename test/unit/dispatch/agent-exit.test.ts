/** An agent that exits without reporting fails its try with the reason; one that reported changes nothing. */
import { describe, expect, test } from "bun:test";
import { failIfUnreported } from "../../../src/dispatch";
import type { Logger } from "../../../src/observability";
import type { TaskInstanceRecord, TaskTransition } from "../../../src/domain";

const ti = { id: 7, dag_run_id: 3, dag_id: "etl", run_id: "manual__1", task_id: "load" } as TaskInstanceRecord;

function fakes(opts: { applied?: boolean; fails?: boolean } = {}) {
  const written: TaskTransition[] = [];
  const woken: number[] = [];
  const logged: string[] = [];
  const store = {
    getTaskInstanceById: async (id: number) => {
      if (opts.fails) throw new Error("database is locked");
      return id === ti.id ? ti : null;
    },
    applyTransitions: async (ts: TaskTransition[]) => {
      written.push(...ts);
      return ts.map(() => opts.applied ?? true);
    },
  };
  const say = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    logged.push(`${level} ${msg}${fields?.error ? `: ${(fields.error as Error).message}` : ""}`);
  const log = { debug: say("debug"), info: say("info"), warn: say("warn"), error: say("error") } as unknown as Logger;
  return { store: store as never, log, written, woken, logged, wake: (id: number) => void woken.push(id) };
}

describe("failIfUnreported", () => {
  test("a killed agent fails its try with the signal, and the run is planned again", async () => {
    const f = fakes();
    await failIfUnreported(f.store, { taskInstanceId: 7, tryNumber: 2, exitCode: null, signal: "SIGKILL" }, f.log, f.wake);
    expect(f.written).toMatchObject([
      {
        id: 7,
        from: ["queued", "running"],
        to: "failed",
        try_number: 2,
        patch: { note: "agent was killed by SIGKILL before reporting a final state" },
      },
    ]);
    expect(f.woken).toEqual([3]);
    expect(f.logged).toEqual(["warn task failed: agent was killed by SIGKILL before reporting a final state"]);
  });

  test("an exit code is named when there was no signal", async () => {
    const f = fakes();
    await failIfUnreported(f.store, { taskInstanceId: 7, tryNumber: 1, exitCode: 3, signal: null }, f.log, f.wake);
    expect(f.written[0]?.patch?.note).toBe("agent exited with code 3 before reporting a final state");
  });

  test("a try the agent already reported is left alone: nothing woken, nothing logged", async () => {
    const f = fakes({ applied: false });
    await failIfUnreported(f.store, { taskInstanceId: 7, tryNumber: 1, exitCode: 0, signal: null }, f.log, f.wake);
    expect(f.woken).toEqual([]);
    expect(f.logged).toEqual([]);
  });

  test("a try whose report its agent saw answered is not looked at", async () => {
    const f = fakes({ fails: true });
    await failIfUnreported(f.store, { taskInstanceId: 7, tryNumber: 1, exitCode: 1, signal: null, reported: true }, f.log, f.wake);
    expect([f.written, f.woken, f.logged]).toEqual([[], [], []]);
  });

  test("an unknown task instance changes nothing", async () => {
    const f = fakes();
    await failIfUnreported(f.store, { taskInstanceId: 99, tryNumber: 1, exitCode: 1, signal: null }, f.log, f.wake);
    expect(f.written).toEqual([]);
  });

  test("a store failure is logged, never thrown", async () => {
    const f = fakes({ fails: true });
    await failIfUnreported(f.store, { taskInstanceId: 7, tryNumber: 1, exitCode: 1, signal: null }, f.log, f.wake);
    expect(f.logged).toEqual(["error could not record an agent's exit: database is locked"]);
  });
});
