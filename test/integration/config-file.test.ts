/**
 * The config file as `leoflow serve` and `leoflow config show` read it: precedence flags > LEOFLOW_* env >
 * file > defaults, --config / LEOFLOW_CONFIG / the default path, and secrets redacted by `config show`.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { configCommand } from "../../src/cli";
import { SERVE_FLAGS, loadServeConfig } from "../../src/config";
import { renderConfigFile } from "../../src/config-file";

const dir = mkdtempSync(join(tmpdir(), "leoflow-config-file-"));
function configFile(text: string, name = "leoflow.toml"): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("loadServeConfig with a config file", () => {
  const file = configFile(`port = 9100
host = "0.0.0.0"
auth = "jwt"
parallelism = 7
dags_folder = "/srv/dags"
log_level = "warn"
admin_password = "from-the-file"
`);

  test("the file fills what flags and environment leave unset; defaults fill the rest", () => {
    const cfg = loadServeConfig(["--config", file], {});
    expect(cfg).toMatchObject({ port: 9100, host: "0.0.0.0", parallelism: 7, dags_folder: "/srv/dags", log_level: "warn" });
    expect(cfg.admin_password).toBe("from-the-file");
    expect(cfg.token_ttl).toBe(86400); // default
  });

  test("the environment beats the file, and a flag beats both", () => {
    const env = { LEOFLOW_PORT: "9200", LEOFLOW_PARALLELISM: "9", LEOFLOW_ADMIN_PASSWORD: "from-env" };
    const cfg = loadServeConfig(["--config", file, "--port", "9300"], env);
    expect(cfg.port).toBe(9300);
    expect(cfg.parallelism).toBe(9);
    expect(cfg.host).toBe("0.0.0.0");
    expect(cfg.admin_password).toBe("from-env");
  });

  test("LEOFLOW_CONFIG names the file when --config does not", () => {
    expect(loadServeConfig([], { LEOFLOW_CONFIG: file }).port).toBe(9100);
  });

  test("the default path is read only when it exists", () => {
    expect(loadServeConfig([], {}, file).port).toBe(9100);
    expect(loadServeConfig([], {}, join(dir, "absent.toml")).port).toBe(8080);
  });

  test("a named file that is missing is an error saying which", () => {
    const missing = join(dir, "nope.toml");
    expect(() => loadServeConfig(["--config", missing], {})).toThrow(`config file ${missing} does not exist; pass --config`);
  });

  test("a value the schema refuses names the setting", () => {
    const bad = configFile('auth = "none"\nhost = "0.0.0.0"\n', "bad.toml");
    expect(() => loadServeConfig(["--config", bad], {})).toThrow("--auth=none: is accepted only when listening on loopback");
    const typo = configFile("prot = 1\n", "typo.toml");
    expect(() => loadServeConfig(["--config", typo], {})).toThrow(`${typo}: prot is not a setting; did you mean port?`);
  });
});

describe("leoflow config show", () => {
  const file = configFile(
    `port = 9100
db = "postgres://leoflow:pg-password@db.internal:5432/leoflow"
mode = "pro"
jwt_secret = "${"j".repeat(40)}"
secrets_key = "${"ab".repeat(32)}"
admin_password = "admin-secret-value"
`,
    "show.toml",
  );

  async function show(args: string[], env: Record<string, string> = {}): Promise<string> {
    let out = "";
    const code = await configCommand(["show", "--config", file, ...args], { out: (t) => (out += t), env });
    expect(code).toBe(0);
    return out;
  }

  test("says where each value came from", async () => {
    const out = await show(["--parallelism", "5"], { LEOFLOW_HOST: "10.0.0.1" });
    expect(out).toContain(`# Config file: ${file}`);
    expect(out).toContain("parallelism = 5  # flag\n");
    expect(out).toContain('host = "10.0.0.1"  # env LEOFLOW_HOST\n');
    expect(out).toContain("port = 9100  # file\n");
    expect(out).toContain("token_ttl = 86400  # default\n");
    expect(out).toContain('executor = "kubernetes"  # derived\n');
  });

  test("never prints a secret", async () => {
    const out = await show([], { LEOFLOW_JWT_PREVIOUS_SECRETS: "old-secret-one" });
    for (const secret of ["j".repeat(40), "ab".repeat(32), "admin-secret-value", "pg-password", "old-secret-one"])
      expect(out).not.toContain(secret);
    expect(out).toContain('jwt_secret = "<redacted>"  # file\n');
    expect(out).toContain('secrets_key = "<redacted>"  # file\n');
    expect(out).toContain('admin_password = "<redacted>"  # file\n');
    expect(out).toContain('jwt_previous_secrets = "<redacted>"  # env LEOFLOW_JWT_PREVIOUS_SECRETS\n');
    expect(out).toContain('db = "postgres://leoflow:***@db.internal:5432/leoflow"  # file\n');
  });

  test("its output is itself a config file giving the same configuration", async () => {
    const out = await show(["--parallelism", "5"]);
    const again = configFile(out.replaceAll('"<redacted>"', `"${"ab".repeat(32)}"`), "again.toml");
    const a = loadServeConfig(["--config", file, "--parallelism", "5"], {});
    const b = loadServeConfig(["--config", again], {});
    const same: typeof a = { ...b, jwt_secret: a.jwt_secret, admin_password: a.admin_password, db: a.db };
    expect(same).toEqual(a);
  });
});

test("packaging/leoflow.toml is what 'leoflow config example' prints (regenerate: leoflow config example > packaging/leoflow.toml)", () => {
  const committed = readFileSync(resolve(import.meta.dir, "../../packaging/leoflow.toml"), "utf8");
  expect(committed).toBe(renderConfigFile(SERVE_FLAGS));
});
