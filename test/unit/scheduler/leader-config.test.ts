/** The Pro runtime's flags: mode defaults for the dispatch buffer, leader polling, and the executor refusal. */
import { describe, expect, test } from "bun:test";
import { loadServeConfig } from "../../../src/config";

const PRO = ["--mode=pro", "--db=postgres://leo@db:5432/leoflow", "--jwt-secret=0123456789abcdef-secret"];

describe("Pro runtime config", () => {
  test("Lite dispatches inline (buffer 0); Pro buffers 1024 launches over 16 workers and polls the lock every second", () => {
    const lite = loadServeConfig([], {});
    expect([lite.dispatch_buffer, lite.dispatch_workers]).toEqual([0, 0]);
    const pro = loadServeConfig([...PRO, "--executor=subprocess"], {});
    expect([pro.dispatch_buffer, pro.dispatch_workers, pro.leader_poll]).toEqual([1024, 16, 1]);
  });

  test("flags and LEOFLOW_* variables override the mode's defaults", () => {
    const cfg = loadServeConfig([...PRO, "--executor=subprocess", "--dispatch-buffer=8"], { LEOFLOW_DISPATCH_WORKERS: "2", LEOFLOW_LEADER_POLL: "0.25" });
    expect([cfg.dispatch_buffer, cfg.dispatch_workers, cfg.leader_poll]).toEqual([8, 2, 0.25]);
  });

  test("Pro refuses to start on its default executor (kubernetes, not built yet) and says what to pass", () => {
    expect(() => loadServeConfig(PRO, {})).toThrow(
      "--executor=kubernetes: (Pro's default) kubernetes is not built yet; use subprocess or docker: pass --executor=subprocess to run tasks as processes on the replica that leads (user code runs unsandboxed), or --executor=docker",
    );
  });

  test("a negative buffer is refused with the flag's name", () => {
    expect(() => loadServeConfig([...PRO, "--executor=subprocess", "--dispatch-buffer=-1"], {})).toThrow("--dispatch-buffer");
  });
});
