import { describe, expect, test } from "bun:test";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentialsPath, normalizeServer, readCredentials, resolveTarget, writeCredentials } from "../../../src/cli/client/credentials";

describe("credentials", () => {
  test("live under XDG_CONFIG_HOME when set, else ~/.config", () => {
    expect(credentialsPath({ XDG_CONFIG_HOME: "/x/cfg" }, "/home/u")).toBe("/x/cfg/leoflow/credentials.json");
    expect(credentialsPath({}, "/home/u")).toBe("/home/u/.config/leoflow/credentials.json");
    expect(credentialsPath({ XDG_CONFIG_HOME: "" }, "/home/u")).toBe("/home/u/.config/leoflow/credentials.json");
  });

  test("are written readable by their owner only, in a private folder, and read back", () => {
    const path = join(mkdtempSync(join(tmpdir(), "leoflow-cred-")), "leoflow", "credentials.json");
    expect(readCredentials(path)).toEqual({ current_server: null, servers: {} });
    const creds = { current_server: "http://a:1", servers: { "http://a:1": { token: "t", username: "admin", saved_at: "now" } } };
    writeCredentials(path, creds);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(path, "..")).mode & 0o777).toBe(0o700);
    expect(readCredentials(path)).toEqual(creds);
  });

  test("a server URL gets http:// when it has no scheme and loses trailing slashes", () => {
    expect(normalizeServer("127.0.0.1:8080")).toBe("http://127.0.0.1:8080");
    expect(normalizeServer("https://leoflow.example.com/")).toBe("https://leoflow.example.com");
    expect(() => normalizeServer("ftp://x")).toThrow("is not an http(s) URL");
  });

  test("--server beats LEOFLOW_SERVER beats the last login; LEOFLOW_TOKEN beats the stored token", () => {
    const creds = {
      current_server: "http://a:1",
      servers: { "http://a:1": { token: "ta", username: null, saved_at: "" }, "http://b:2": { token: "tb", username: null, saved_at: "" } },
    };
    expect(resolveTarget(undefined, {}, creds)).toEqual({ server: "http://a:1", token: "ta" });
    expect(resolveTarget(undefined, { LEOFLOW_SERVER: "http://b:2/" }, creds)).toEqual({ server: "http://b:2", token: "tb" });
    expect(resolveTarget("http://c:3", { LEOFLOW_SERVER: "http://b:2" }, creds)).toEqual({ server: "http://c:3", token: null });
    expect(resolveTarget(undefined, { LEOFLOW_TOKEN: "env" }, creds)).toEqual({ server: "http://a:1", token: "env" });
    expect(resolveTarget(undefined, {}, { current_server: null, servers: {} })).toBeNull();
  });
});
