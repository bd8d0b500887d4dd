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

  test("a frozen leader is deposed after 30 s by default; a bound a busy leader could reach is refused, naming why; 0 never", () => {
    const pro = [...PRO, "--executor=subprocess"];
    expect(loadServeConfig(pro, {}).leader_takeover_after).toBe(30);
    expect(loadServeConfig([...pro, "--leader-takeover-after=0"], {}).leader_takeover_after).toBe(0);
    expect(() => loadServeConfig([...pro, "--leader-takeover-after=5"], {})).toThrow(
      "--leader-takeover-after: (5 s) must be 0 (never) or at least 10 s",
    );
    expect(() => loadServeConfig([...pro, "--leader-poll=5", "--leader-takeover-after=12"], {})).toThrow("at least 15 s");
    expect(loadServeConfig(pro, { LEOFLOW_LEADER_TAKEOVER_AFTER: "45" }).leader_takeover_after).toBe(45);
  });
});
