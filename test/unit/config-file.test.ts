/** The config file layer's parsing and rendering (pure: text in, values out; the file reading is in test/integration). */
import { describe, expect, test } from "bun:test";
import { SERVE_FLAGS } from "../../src/config";
import { changedSettings, parseConfigFile, renderConfigFile } from "../../src/config-file";

const parse = (text: string) => parseConfigFile(text, "/etc/leoflow/leoflow.toml", SERVE_FLAGS);

describe("parseConfigFile", () => {
  test("snake_case keys become flag values of the flag's type", () => {
    expect(parse('port = 9000\ndags_folder = "/srv/dags"\ndags_paused_at_creation = true\nadmin_password = "pw"')).toEqual({
      port: 9000,
      "dags-folder": "/srv/dags",
      "dags-paused-at-creation": true,
      "admin-password": "pw",
    });
  });

  test("a number for a text setting is its text, and an array of strings a comma list", () => {
    expect(parse('docker_default_cpu = 2\ndocker_allowed_images = ["python:*", "debian:*"]')).toEqual({
      "docker-default-cpu": "2",
      "docker-allowed-images": "python:*,debian:*",
    });
  });

  test("an unknown key is refused with the file, the key and the nearest setting", () => {
    expect(() => parse('dag_folder = "/srv"')).toThrow(
      "/etc/leoflow/leoflow.toml: dag_folder is not a setting; did you mean dags_folder? ('leoflow config example' lists them all)",
    );
  });

  test("a value of the wrong type names what the key expects", () => {
    expect(() => parse('port = "9000"')).toThrow('port expects a number (no quotes), got "9000"');
    expect(() => parse("auth = true")).toThrow("auth expects a string in quotes, got true");
    expect(() => parse('dags_paused_at_creation = "yes"')).toThrow("expects true or false (no quotes)");
  });

  test("sections are refused: settings sit at the top level", () => {
    expect(() => parse('[docker]\ndefault_image = "x"')).toThrow("docker is not a setting");
    expect(() => parse("port = 1\n[kubeconfig]\na = 1")).toThrow("kubeconfig is a table, but settings sit at the top level");
  });

  test("every problem is reported at once", () => {
    expect(() => parse('prot = 1\nport = "1"\nmode = [1]')).toThrow(
      /prot is not a setting[\s\S]*port expects a number[\s\S]*mode expects a string/,
    );
  });

  test("bad TOML says so, naming the file", () => {
    expect(() => parse("port = = 1")).toThrow("/etc/leoflow/leoflow.toml: not valid TOML");
  });
});

describe("renderConfigFile", () => {
  test("documents every setting with its env var and default, commented out", () => {
    const text = renderConfigFile(SERVE_FLAGS);
    for (const [name, [, envName]] of Object.entries(SERVE_FLAGS)) {
      expect(text).toContain(`# env ${envName}`);
      expect(text).toMatch(new RegExp(`^# ${name.replaceAll("-", "_")} =`, "m"));
    }
    expect(text).toContain("# env LEOFLOW_PORT; default 8080\n# port = 8080");
    expect(parse(text)).toEqual({}); // all commented: the defaults apply
  });

  test("what it sets parses back to the same values", () => {
    const set = { port: 9000, host: "0.0.0.0", "jwt-secret": 'a"b\\c\u007f', "admin-password": "pw", "dags-paused-at-creation": true };
    expect(parse(renderConfigFile(SERVE_FLAGS, set))).toEqual(set);
  });
});

test("changedSettings names the keys whose values differ", () => {
  expect(changedSettings({ a: 1, b: [1], c: "x" }, { a: 1, b: [2], d: true })).toEqual(["b", "c", "d"]);
});
