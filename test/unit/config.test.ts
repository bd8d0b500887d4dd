import { describe, expect, test } from "bun:test";
import { loadServeConfig, serveHelp } from "../../src/config";
import { ValidationError } from "../../src/domain";

const fail = (argv: string[], env: Record<string, string> = {}) => {
  try {
    loadServeConfig(argv, env);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("expected the config to be refused");
};

describe("serve config", () => {
  test("defaults are Lite on loopback with a SQLite file in the data dir", () => {
    const cfg = loadServeConfig([], {});
    expect(cfg).toMatchObject({
      mode: "lite",
      host: "127.0.0.1",
      port: 8080,
      executor: "subprocess",
      auth: "jwt",
      db: "sqlite:./.leoflow/leoflow.db",
    });
  });

  test("flags beat environment variables, which beat defaults", () => {
    const cfg = loadServeConfig(["--port", "9090"], { LEOFLOW_PORT: "7070", LEOFLOW_PARALLELISM: "4" });
    expect(cfg.port).toBe(9090);
    expect(cfg.parallelism).toBe(4);
  });

  test("an unknown flag names itself and points at --help", () => {
    expect(fail(["--prot", "1"])).toContain("--prot");
    expect(fail(["--prot", "1"])).toContain("leoflow serve --help");
  });

  test("a non-numeric port is refused with the flag's name", () => {
    expect(fail(["--port", "eighty"])).toContain('--port: expects a number, got "eighty"');
  });

  test("pro mode on SQLite is refused with what to pass instead", () => {
    const msg = fail(["--mode=pro", "--db=sqlite:./x.db", "--jwt-secret", "0123456789abcdef"]);
    expect(msg).toContain("--mode=pro");
    expect(msg).toContain("--db=postgres://");
  });

  test.each<[string, string[], Record<string, string>]>([
    ["lite", ["--executor=kubernetes"], {}],
    ["lite, from the environment", [], { LEOFLOW_EXECUTOR: "kubernetes" }],
    ["pro", ["--mode=pro", "--db=postgres://u@h/db", "--executor=kubernetes"], {}],
  ])("the kubernetes executor is accepted in %s", (_n, argv, env) => {
    expect(loadServeConfig(argv, env).executor).toBe("kubernetes");
  });

  test("pro without --executor runs kubernetes, its default; subprocess and docker are accepted", () => {
    expect(loadServeConfig(["--mode=pro", "--db=postgres://u@h/db"], {}).executor).toBe("kubernetes");
    expect(loadServeConfig(["--executor=docker"], {}).executor).toBe("docker");
    expect(loadServeConfig(["--mode=pro", "--db=postgres://u@h/db", "--executor=subprocess"], {}).executor).toBe("subprocess");
  });

  test("a client address from X-Forwarded-For only with --trusted-proxy-hops", () => {
    expect(loadServeConfig([], {}).trusted_proxy_hops).toBe(0);
    expect(loadServeConfig(["--trusted-proxy-hops", "1"], {}).trusted_proxy_hops).toBe(1);
    expect(fail(["--trusted-proxy-hops", "-1"])).toContain("--trusted-proxy-hops");
  });

  test("--auth=none is refused unless listening on loopback", () => {
    expect(fail(["--auth=none", "--host", "0.0.0.0"])).toContain("only when listening on loopback");
    expect(loadServeConfig(["--auth=none", "--host", "127.0.0.1"], {}).auth).toBe("none");
  });

  test("a bad mode lists the accepted values", () => {
    expect(fail(["--mode=turbo"])).toMatch(/--mode: .*lite.*pro/);
  });

  test("help lists every flag with its environment variable", () => {
    const help = serveHelp();
    for (const flag of ["--mode", "--db", "--dags-folder", "--port", "--executor", "--auth"]) expect(help).toContain(flag);
    expect(help).toContain("LEOFLOW_DAGS_FOLDER");
  });
});
