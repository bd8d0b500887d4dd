import { describe, expect, test } from "bun:test";
import { loadServeConfig } from "../../../src/config";

const refused = (argv: string[], env: Record<string, string> = {}) => {
  try {
    loadServeConfig(argv, env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected the config to be refused");
};

describe("body limits in the serve config", () => {
  test("defaults: agent RPC 4 MiB, API 1 MiB", () => {
    expect(loadServeConfig([], {})).toMatchObject({ rpc_max_body: 4 * 1024 * 1024, api_max_body: 1024 * 1024 });
  });

  test("bytes or a unit, from a flag or LEOFLOW_RPC_MAX_BODY / LEOFLOW_API_MAX_BODY", () => {
    expect(loadServeConfig(["--rpc-max-body", "8388608"], {}).rpc_max_body).toBe(8 * 1024 * 1024);
    expect(loadServeConfig([], { LEOFLOW_RPC_MAX_BODY: "16Mi" }).rpc_max_body).toBe(16 * 1024 * 1024);
    expect(loadServeConfig(["--api-max-body", "512Ki"], {}).api_max_body).toBe(512 * 1024);
  });

  test("nonsense and tiny limits are refused naming the flag", () => {
    expect(refused(["--rpc-max-body", "lots"])).toBe('--rpc-max-body: expects a size in bytes or with a unit such as "4Mi", got "lots"');
    expect(refused(["--api-max-body", "100"])).toBe("--api-max-body: must be at least 65536 bytes, got 100");
  });

  test("an RPC limit too small for the largest XCom is refused with the fix", () => {
    expect(refused(["--xcom-max-bytes", "4194304"])).toContain(
      "--rpc-max-body: (4194304 bytes) must be at least twice --xcom-max-bytes (4194304)",
    );
  });
});
