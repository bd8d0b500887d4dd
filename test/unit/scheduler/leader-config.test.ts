/** The Pro runtime's flags: mode defaults for the dispatch buffer, leader polling, and the default executor. */
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
    const cfg = loadServeConfig([...PRO, "--executor=subprocess", "--dispatch-buffer=8"], {
      LEOFLOW_DISPATCH_WORKERS: "2",
      LEOFLOW_LEADER_POLL: "0.25",
    });
    expect([cfg.dispatch_buffer, cfg.dispatch_workers, cfg.leader_poll]).toEqual([8, 2, 0.25]);
  });

  test("Pro runs tasks on kubernetes unless --executor says otherwise", () => {
    expect(loadServeConfig(PRO, {}).executor).toBe("kubernetes");
  });

  test("a negative buffer is refused with the flag's name", () => {
    expect(() => loadServeConfig([...PRO, "--executor=subprocess", "--dispatch-buffer=-1"], {})).toThrow("--dispatch-buffer");
  });
});
