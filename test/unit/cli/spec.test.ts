import { describe, expect, test } from "bun:test";
import { COMMANDS, HelpRequested, UsageError, parseCommand } from "../../../src/cli/client/spec";

const usageError = (argv: string[]): UsageError => {
  try {
    parseCommand(argv);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`${argv.join(" ")} parsed`);
};

describe("parseCommand", () => {
  test("names the positional arguments and keeps the command's options", () => {
    const cmd = parseCommand(["dags", "trigger", "etl", "--conf", '{"a":1}', "--run-id", "r1", "--server", "http://x:1", "-o", "json"]);
    expect(cmd.spec.name).toBe("dags trigger");
    expect(cmd.args).toEqual({ DAG: "etl" });
    expect(cmd.options).toEqual({ conf: '{"a":1}', "run-id": "r1" });
    expect(cmd.server).toBe("http://x:1");
    expect(cmd.output).toBe("json");
  });

  test("output defaults to table; options may come before the arguments", () => {
    const cmd = parseCommand(["tasks", "logs", "--follow", "--try", "2", "etl", "run1", "extract"]);
    expect(cmd.output).toBe("table");
    expect(cmd.args).toEqual({ DAG: "etl", RUN: "run1", TASK: "extract" });
    expect(cmd.options).toEqual({ follow: true, try: "2" });
  });

  test("one-word commands: login and logout", () => {
    expect(parseCommand(["login", "--server", "h:8080", "--password-stdin"]).options).toEqual({ "password-stdin": true });
    expect(parseCommand(["logout"]).spec.name).toBe("logout");
  });

  test("missing and extra arguments are usage errors that show the command's usage", () => {
    const missing = usageError(["runs", "get", "etl"]);
    expect(missing.message).toBe("runs get: missing RUN");
    expect(missing.usage).toStartWith("leoflow runs get DAG RUN");
    expect(usageError(["variables", "get", "a", "b"]).message).toBe('variables get: unexpected argument "b"');
  });

  test("a negative number is a positional value or an option's value, not an unknown option", () => {
    expect(parseCommand(["pools", "set", "p1", "-1"]).args).toEqual({ NAME: "p1", SLOTS: "-1" });
    expect(parseCommand(["pools", "set", "-1", "p1", "--description", "-2.5"]).options).toEqual({ description: "-2.5" });
    expect(usageError(["pools", "set", "p1", "-1", "-2"]).message).toBe('pools set: unexpected argument "-2"');
    expect(usageError(["pools", "set", "p1", "-x"]).message).toContain("Unknown option '-x'");
  });

  test("unknown options, actions and output formats are usage errors", () => {
    expect(usageError(["pools", "list", "--bogus"]).message).toContain("--bogus");
    const action = usageError(["runs", "explode"]);
    expect(action.message).toBe('runs: unknown action "explode"');
    expect(action.usage).toContain("leoflow runs clear DAG RUN");
    expect(usageError(["runs"]).message).toBe("runs: say what to do");
    expect(usageError(["dags", "list", "-o", "yaml"]).message).toBe('dags list: --output must be table or json, not "yaml"');
  });

  test("--help on a command or a group asks for help instead of running", () => {
    for (const argv of [
      ["dags", "trigger", "--help"],
      ["variables", "set", "-h"],
      ["pools", "--help"],
      ["dags", "-h"],
    ]) {
      let help: unknown;
      try {
        parseCommand(argv);
      } catch (e) {
        help = e;
      }
      expect(help).toBeInstanceOf(HelpRequested);
    }
  });

  test("the dags group's help also names the local-file commands", () => {
    try {
      parseCommand(["dags", "--help"]);
    } catch (e) {
      expect((e as HelpRequested).text).toContain("leoflow dags validate PATH");
      expect((e as HelpRequested).text).toContain("leoflow dags trigger DAG");
    }
  });

  test("every command answers --help with its usage and the exit codes", () => {
    for (const spec of COMMANDS) {
      try {
        parseCommand([...spec.name.split(" "), "--help"]);
        throw new Error(`${spec.name} ran`);
      } catch (e) {
        expect(e).toBeInstanceOf(HelpRequested);
        expect((e as HelpRequested).text).toStartWith(`leoflow ${spec.name}`);
        expect((e as HelpRequested).text).toContain("Exit codes: 0");
      }
    }
  });
});
