/** The task environment rule (task-env.ts): which variables a task's process sees, as tables. */
import { describe, expect, test } from "bun:test";
import { loadServeConfig } from "../../../src/config";
import {
  agentLaunchEnv,
  inheritedTaskEnv,
  isServerOwned,
  matchesPassthrough,
  parsePassthrough,
  passthroughEnv,
  userProcessEnv,
} from "../../../src/domain";

const SERVER_ENV = {
  PATH: "/usr/bin:/bin",
  HOME: "/home/leo",
  LANG: "C.UTF-8",
  LC_ALL: "C.UTF-8",
  TZ: "UTC",
  USER: "leo",
  SHELL: "/bin/bash",
  LEOFLOW_JWT_SECRET: "jwt-secret-0123456789",
  LEOFLOW_ADMIN_PASSWORD: "admin-pw",
  LEOFLOW_DB: "postgres://leo:pw@db/leoflow",
  LEOFLOW_SECRETS_KEY: "k",
  LEOFLOW_LOG_FORMAT: "json",
  PGPASSWORD: "pg-pw",
  DOCKER_HOST: "unix:///run/docker.sock",
  SOME_SERVER_SECRET: "s3cr3t",
  AWS_REGION: "eu-west-1",
  AWS_SECRET_ACCESS_KEY: "aws",
  HTTP_PROXY: "http://proxy:3128",
};

describe("which server variables a task inherits", () => {
  test.each([
    // name, passthrough, inherited?
    ["PATH", "", true],
    ["HOME", "", true],
    ["LANG", "", true],
    ["LC_ALL", "", true],
    ["TZ", "", true],
    ["USER", "", true],
    ["SHELL", "", true],
    ["LEOFLOW_JWT_SECRET", "", false],
    ["LEOFLOW_ADMIN_PASSWORD", "", false],
    ["LEOFLOW_DB", "", false],
    ["LEOFLOW_SECRETS_KEY", "", false],
    ["LEOFLOW_LOG_FORMAT", "", false],
    ["PGPASSWORD", "", false],
    ["DOCKER_HOST", "", false],
    ["SOME_SERVER_SECRET", "", false],
    ["AWS_REGION", "", false],
    ["SOME_SERVER_SECRET", "SOME_SERVER_SECRET", true],
    ["AWS_REGION", "AWS_*", true],
    ["AWS_SECRET_ACCESS_KEY", "AWS_*", true],
    ["HTTP_PROXY", "AWS_*,HTTP_PROXY", true],
    ["AWS_REGION", "HTTP_PROXY", false],
    // A glob never reaches what the server reads for itself.
    ["LEOFLOW_JWT_SECRET", "*", false],
    ["PGPASSWORD", "PG*", false],
    ["DOCKER_HOST", "*_HOST", false],
  ] as [string, string, boolean][])("%s with passthrough %p: %p", (name, list, want) => {
    const { patterns } = parsePassthrough(list);
    expect(name in inheritedTaskEnv(SERVER_ENV, patterns)).toBe(want);
  });
});

describe("--task-env-passthrough", () => {
  test.each([
    ["", [], []],
    ["AWS_*, HTTP_PROXY ,", ["AWS_*", "HTTP_PROXY"], []],
    ["LEOFLOW_JWT_SECRET", [], ["LEOFLOW_JWT_SECRET is a variable the server reads for itself"]],
    ["PGPASSWORD,FOO", ["FOO"], ["PGPASSWORD is a variable the server reads for itself"]],
    ["LEOFLOW_*", [], ["LEOFLOW_* would match the server's own LEOFLOW_* settings"]],
    ["A-B", [], ['"A-B" is not an environment variable name']],
  ] as [string, string[], string[]][])("%p", (list, patterns, problems) => {
    const got = parsePassthrough(list);
    expect(got.patterns).toEqual(patterns);
    expect(got.problems.length).toBe(problems.length);
    problems.forEach((p, i) => {
      expect(got.problems[i]).toContain(p);
    });
  });

  test("globs match whole names", () => {
    expect(matchesPassthrough("AWS_REGION", ["AWS_*"])).toBe(true);
    expect(matchesPassthrough("MY_AWS_REGION", ["AWS_*"])).toBe(false);
    expect(matchesPassthrough("A.B", ["A*"])).toBe(true);
    expect(isServerOwned("LEOFLOW_ANYTHING")).toBe(true);
  });

  test("containers get only the passthrough names (the image sets PATH and HOME)", () => {
    expect(passthroughEnv(SERVER_ENV, ["AWS_REGION"])).toEqual({ AWS_REGION: "eu-west-1" });
  });
});

describe("the two doors", () => {
  test("the subprocess executor starts the agent with the allowlist, its settings and the try's own values", () => {
    const env = agentLaunchEnv(SERVER_ENV, ["AWS_REGION"], { LEOFLOW_AGENT_TOKEN: "tok", LEOFLOW_SERVER: "http://127.0.0.1:1" });
    expect(Object.keys(env).sort()).toEqual([
      "AWS_REGION",
      "HOME",
      "LANG",
      "LC_ALL",
      "LEOFLOW_AGENT_TOKEN",
      "LEOFLOW_LOG_FORMAT",
      "LEOFLOW_SERVER",
      "LEOFLOW_TASK_ENV_PASSTHROUGH",
      "PATH",
      "SHELL",
      "TZ",
      "USER",
    ]);
    expect(env.LEOFLOW_TASK_ENV_PASSTHROUGH).toBe("AWS_REGION");
  });

  test("the agent builds the user process env from an allowlist of its own, even if started with everything", () => {
    const agentEnv = {
      ...SERVER_ENV,
      LEOFLOW_AGENT_TOKEN: "tok",
      LEOFLOW_SERVER: "http://s",
      LEOFLOW_AGENT_CONTROL: "stdout",
      LEOFLOW_TASK_ENV_PASSTHROUGH: "AWS_REGION",
    };
    const env = userProcessEnv({
      agentEnv,
      taskEnv: { GREETING: "hi", PATH: "/opt/bin", LEOFLOW_DAG_ID: "etl", LEOFLOW_AGENT_TOKEN: "forged" },
      xcom: { LEOFLOW_XCOM_EXTRACT: "{}" },
      returnValuePath: "/tmp/rv",
    });
    expect(env).toEqual({
      HOME: "/home/leo",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
      USER: "leo",
      SHELL: "/bin/bash",
      AWS_REGION: "eu-west-1",
      // The DAG's env wins over the inherited base...
      PATH: "/opt/bin",
      GREETING: "hi",
      LEOFLOW_DAG_ID: "etl",
      LEOFLOW_XCOM_EXTRACT: "{}",
      // ...but never over the try's own values.
      LEOFLOW_AGENT_TOKEN: "tok",
      LEOFLOW_SERVER: "http://s",
      LEOFLOW_RETURN_VALUE_PATH: "/tmp/rv",
    });
  });
});

describe("config", () => {
  test("naming a server variable in --task-env-passthrough is refused at start with the reason", () => {
    expect(() => loadServeConfig(["--task-env-passthrough", "AWS_*,LEOFLOW_JWT_SECRET"], {})).toThrow(
      "--task-env-passthrough: LEOFLOW_JWT_SECRET is a variable the server reads for itself and is never passed to tasks",
    );
    expect(loadServeConfig([], { LEOFLOW_TASK_ENV_PASSTHROUGH: "AWS_*, HTTP_PROXY" }).task_env_passthrough).toEqual([
      "AWS_*",
      "HTTP_PROXY",
    ]);
  });
});
