/**
 * `leoflow install --systemd`: installs this binary as a systemd service, as scripts/install.sh does after
 * downloading it. Writes, under --root (default "/"; DESTDIR also works, for packaging and tests):
 *   <prefix>/bin/leoflow                    this binary (0755)
 *   /etc/sysusers.d/leoflow.conf            the `leoflow` system user, created with systemd-sysusers (or useradd)
 *   /var/lib/leoflow, /var/lib/leoflow/dags the data dir and DAG folder (0750, owned by leoflow)
 *   /etc/leoflow/leoflow.toml               settings with a generated admin password and secrets (0600, leoflow)
 *   /etc/systemd/system/leoflow.service     the hardened Type=notify unit (packaging/leoflow.service)
 * Running it again upgrades: the binary and the unit are replaced, the config file and data are kept.
 *
 * @example sudo ./leoflow install --systemd && sudo systemctl enable --now leoflow
 */
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { generatePassword } from "../auth";
import { LeoflowError, errorMessage } from "../domain";
import { INSTALL_HEADER, installSettings, layoutProblem, renderUnit, sysusersLine, type InstallLayout } from "./install-files";
import type { CliIo } from "./secrets";
import { UsageError } from "./secrets";

export const INSTALL_USAGE =
  "install --systemd [--root DIR] [--prefix /usr/local] [--user leoflow] [--data-dir /var/lib/leoflow] [--host 127.0.0.1] [--port 8080] [--binary PATH]";

const OPTIONS = {
  systemd: { type: "boolean" },
  root: { type: "string" },
  prefix: { type: "string" },
  user: { type: "string" },
  "data-dir": { type: "string" },
  host: { type: "string" },
  port: { type: "string" },
  binary: { type: "string" },
} as const;

export async function installCommand(args: string[], io: CliIo): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true }>>["values"];
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, strict: true }));
  } catch (e) {
    throw new UsageError(`${errorMessage(e)}; ${INSTALL_USAGE}`);
  }
  if (!values.systemd) throw new UsageError(`install needs --systemd (the only kind of install there is); ${INSTALL_USAGE}`);
  if (process.platform !== "linux")
    throw new LeoflowError("install --systemd is for Linux; on macOS run 'leoflow serve' (launchd is not supported)");
  const root = resolve(values.root ?? io.env.DESTDIR ?? "/");
  const onHost = root === "/";
  if (onHost && process.getuid?.() !== 0) throw new LeoflowError("install --systemd writes to /etc and /usr/local: run it as root (sudo)");
  const port = Number(values.port ?? 8080);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`--port expects 1-65535, got "${values.port}"`);
  const prefix = values.prefix ?? "/usr/local";
  const layout: InstallLayout = {
    binary: `${prefix}/bin/leoflow`,
    config: "/etc/leoflow/leoflow.toml",
    dataDir: values["data-dir"] ?? "/var/lib/leoflow",
    user: values.user ?? "leoflow",
  };
  // Every flag is checked before the first write: a refused one must not leave files behind (a config file that
  // a re-run would keep as an upgrade's).
  const problem = layoutProblem(layout);
  if (problem) throw new UsageError(`${problem}; ${INSTALL_USAGE}`);
  const host = values.host ?? "127.0.0.1";
  if (!/^\S+$/.test(host)) throw new UsageError(`--host expects an address such as 127.0.0.1 or 0.0.0.0, got "${host}"`);
  const source = values.binary ?? process.execPath;
  if (!values.binary && !/leoflow[^/]*$/.test(source))
    throw new LeoflowError(`this is not the compiled leoflow binary (${source}); pass --binary PATH (bun scripts/build.ts builds it)`);
  if (!existsSync(source)) throw new UsageError(`--binary ${source} does not exist`);
  const at = (path: string) => join(root, path);
  const said = (what: string) => io.out(`${what}\n`);

  // 1. The binary: this one, unless it is already there (scripts/install.sh put it there first).
  if (resolve(source) !== at(layout.binary)) {
    mkdirSync(dirname(at(layout.binary)), { recursive: true });
    const tmp = `${at(layout.binary)}.new`;
    copyFileSync(source, tmp);
    chmodSync(tmp, 0o755);
    renameSync(tmp, at(layout.binary)); // atomic: a running server keeps its old inode
    said(`installed ${layout.binary}`);
  }

  // 2. The system user (sysusers.d, so the user also comes back on image-based systems).
  write(at("/etc/sysusers.d/leoflow.conf"), sysusersLine(layout), 0o644);
  const ids = await ensureUser(root, layout, said);

  // 3. Directories and the config file (kept when present: a reinstall is an upgrade).
  for (const dir of [layout.dataDir, `${layout.dataDir}/dags`]) makeDir(at(dir), 0o750, ids);
  makeDir(at(dirname(layout.config)), 0o750, ids && { uid: 0, gid: ids.gid });
  let adminPassword: string | null = null;
  if (existsSync(at(layout.config))) said(`kept ${layout.config} (it exists; delete it to generate a new one)`);
  else {
    adminPassword = generatePassword();
    const [{ SERVE_FLAGS }, { renderConfigFile }] = await Promise.all([import("../config"), import("../config-file")]);
    const secrets = { adminPassword, jwtSecret: randomHex(32), secretsKey: randomHex(32) };
    const text = renderConfigFile(SERVE_FLAGS, installSettings(layout, { host, port, secrets }), INSTALL_HEADER);
    write(at(layout.config), text, 0o600, ids);
    said(`wrote ${layout.config} (mode 0600) with a generated admin password, token secret and secrets key`);
  }

  // 4. The unit, then systemd told about it (on this host only).
  write(at("/etc/systemd/system/leoflow.service"), renderUnit(layout), 0o644);
  said("wrote /etc/systemd/system/leoflow.service");
  if (onHost && (await run(["systemctl", "daemon-reload"])).ok) said("systemctl daemon-reload: done");

  if (adminPassword) said(`\nadmin password: ${adminPassword}\n(also in ${layout.config} as admin_password; it is printed only now)`);
  said(
    onHost
      ? "\nnext: systemctl enable --now leoflow   then: journalctl -u leoflow -f"
      : `\nfiles are under ${root}; the user was ${ids ? "added to its /etc/passwd" : "not created"}`,
  );
  return 0;
}

/** Creates the service user (systemd-sysusers, else useradd on the host) and returns its ids, or null when it could not. */
async function ensureUser(root: string, layout: InstallLayout, said: (s: string) => void): Promise<{ uid: number; gid: number } | null> {
  const conf = join(root, "/etc/sysusers.d/leoflow.conf");
  const sysusers = await run(["systemd-sysusers", ...(root === "/" ? [] : [`--root=${root}`]), conf]);
  if (!sysusers.ok && root === "/" && !lookupUser(root, layout.user))
    await run(["useradd", "--system", "--user-group", "--home-dir", layout.dataDir, "--shell", "/usr/sbin/nologin", layout.user]);
  const ids = lookupUser(root, layout.user);
  if (ids) said(`system user ${layout.user} (uid ${ids.uid})`);
  else
    said(
      `could not create the system user ${layout.user} (${sysusers.error}); create it, then chown ${layout.dataDir} and the config to it`,
    );
  return ids;
}

function lookupUser(root: string, user: string): { uid: number; gid: number } | null {
  const passwd = join(root, "/etc/passwd");
  if (!existsSync(passwd)) return null;
  const line = readFileSync(passwd, "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  const [, , uid, gid] = line?.split(":") ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : null;
}

function makeDir(path: string, mode: number, owner: { uid: number; gid: number } | null): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
  if (owner && process.getuid?.() === 0) chownSync(path, owner.uid, owner.gid);
}

/** Writes through a temporary file, created with its final mode so a secret is never readable by others, not even briefly. */
function write(path: string, text: string, mode: number, owner: { uid: number; gid: number } | null = null): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.new`;
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode); // the umask may have taken bits off
  if (owner && process.getuid?.() === 0) chownSync(tmp, owner.uid, owner.gid);
  renameSync(tmp, path);
}

async function run(argv: string[]): Promise<{ ok: boolean; error: string }> {
  try {
    const proc = Bun.spawn(argv, { stdout: "ignore", stderr: "pipe" });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    return { ok: code === 0, error: stderr.trim() || `${argv[0]} exited ${code}` };
  } catch (e) {
    return { ok: false, error: `${argv[0]}: ${errorMessage(e)}` };
  }
}

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}
