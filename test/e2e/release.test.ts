/**
 * The release path as a user meets it: scripts/release builds this machine's archive (building every target
 * takes minutes, so the suite builds one and checks the list; scripts/release without --targets builds all),
 * SHA256SUMS matches it, the unpacked binary reports its baked-in version, commit and date, and
 * scripts/install.sh installs it into a temporary root (DESTDIR) with --systemd: binary, user, data dir,
 * config file with generated secrets (0600), and a unit that `systemd-analyze verify` accepts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { $ } from "bun";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

setDefaultTimeout(60_000);
const ROOT = resolve(import.meta.dir, "../..");
const VERSION = "9.8.7-rc.1";
const EPOCH = 1_700_000_000; // SOURCE_DATE_EPOCH: the build date every archive of this test carries
const HOST = `linux-${process.arch === "arm64" ? "arm64" : "x64"}`;
const ARCHIVE = `leoflow-${VERSION}-${HOST}.tar.gz`;
const work = mkdtempSync(join(tmpdir(), "leoflow-release-"));
const out = join(work, "release");
const linux = process.platform === "linux";

async function sha256(path: string): Promise<string> {
  return new Bun.CryptoHasher("sha256").update(await Bun.file(path).arrayBuffer()).digest("hex");
}

/** Runs scripts/install.sh with a DESTDIR; returns its exit code, output and how long it took. */
async function installInto(destdir: string, args: string[], base = out) {
  const started = performance.now();
  const r = await $`sh ${ROOT}/scripts/install.sh --base-url ${base} ${args}`
    .env({ ...process.env, DESTDIR: destdir })
    .quiet()
    .nothrow();
  return { code: r.exitCode, output: r.stdout.toString() + r.stderr.toString(), ms: performance.now() - started };
}

beforeAll(async () => {
  if (!linux) return;
  const started = performance.now();
  const r = await $`${ROOT}/scripts/release --targets ${HOST} --version ${VERSION} --out ${out}`
    .env({ ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) })
    .quiet()
    .nothrow();
  if (r.exitCode !== 0) throw new Error(`scripts/release failed:\n${r.stderr}`);
  console.log(
    `release of ${HOST}: ${((performance.now() - started) / 1000).toFixed(1)} s, ${(statSync(join(out, ARCHIVE)).size / 2 ** 20).toFixed(1)} MiB archive`,
  );
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

test("scripts/release --list-targets names every platform with its Bun target", async () => {
  const list = (await $`${ROOT}/scripts/release --list-targets`.quiet().text()).trim().split("\n");
  expect(list).toEqual([
    "linux-x64 bun-linux-x64",
    "linux-arm64 bun-linux-arm64",
    "linux-x64-musl bun-linux-x64-musl",
    "linux-arm64-musl bun-linux-arm64-musl",
    "darwin-arm64 bun-darwin-arm64",
  ]);
});

test("scripts/release refuses an unknown target and a malformed version", async () => {
  const target = await $`${ROOT}/scripts/release --targets linux-sparc --out ${work}/x`.quiet().nothrow();
  expect(target.exitCode).toBe(2);
  expect(target.stderr.toString()).toContain('unknown target "linux-sparc"; the targets are: linux-x64 linux-arm64');
  const version = await $`${ROOT}/scripts/release --version 1.2 --out ${work}/x`.quiet().nothrow();
  expect(version.exitCode).toBe(2);
  expect(version.stderr.toString()).toContain('version "1.2" is not of the form 1.2.3');
});

describe.if(linux)("a release archive", () => {
  test("SHA256SUMS holds the archive's checksum, in sha256sum's format", async () => {
    const sums = readFileSync(join(out, "SHA256SUMS"), "utf8");
    expect(sums).toBe(`${await sha256(join(out, ARCHIVE))}  ${ARCHIVE}\n`);
    expect((await $`sha256sum -c SHA256SUMS`.cwd(out).quiet().nothrow()).exitCode).toBe(0);
    expect(existsSync(join(out, "install.sh"))).toBe(true);
  });

  const unpacked = join(work, "unpacked");
  test("holds the binary, the unit template, an example config and the install guide", async () => {
    await $`mkdir -p ${unpacked} && tar -xzf ${join(out, ARCHIVE)} -C ${unpacked}`.quiet();
    expect(readdirSync(unpacked)).toEqual([`leoflow-${VERSION}-${HOST}`]);
    expect(readdirSync(join(unpacked, `leoflow-${VERSION}-${HOST}`)).sort()).toEqual([
      "INSTALL.md",
      "leoflow",
      "leoflow.service",
      "leoflow.toml",
    ]);
  });

  test("the unpacked binary prints the version, commit and build date baked in", async () => {
    const text = await $`${unpacked}/leoflow-${VERSION}-${HOST}/leoflow version`.quiet().text();
    const commit = (await $`git -C ${ROOT} rev-parse --short=12 HEAD`.quiet().text()).trim();
    expect(text).toMatch(
      new RegExp(`^leoflow ${VERSION.replaceAll(".", "\\.")}\ncommit ${commit}(-dirty)?\nbuilt 2023-11-14T22:13:20Z\n$`),
    );
  });
});

describe.if(linux)("scripts/install.sh", () => {
  const dest = join(work, "root");
  let first: Awaited<ReturnType<typeof installInto>>;
  beforeAll(async () => {
    first = await installInto(dest, ["--version", VERSION, "--systemd"]);
    console.log(`install.sh --systemd into DESTDIR: ${first.ms.toFixed(0)} ms`);
  });

  test("picks this machine's archive, checks it and installs the binary to /usr/local/bin", async () => {
    expect(first.output).toContain(`installed /usr/local/bin/leoflow from ${ARCHIVE} (sha256 ok)`);
    expect(first.code).toBe(0);
    const bin = join(dest, "usr/local/bin/leoflow");
    expect(statSync(bin).mode & 0o777).toBe(0o755);
    expect(await $`${bin} version`.quiet().text()).toStartWith(`leoflow ${VERSION}\n`);
  });

  test("--systemd creates the user, the data dir and a 0600 config with generated secrets", async () => {
    expect(readFileSync(join(dest, "etc/passwd"), "utf8")).toMatch(
      /^leoflow:x:\d+:\d+:Leoflow workflow orchestrator:\/var\/lib\/leoflow:\/usr\/sbin\/nologin$/m,
    );
    const uid = statSync(join(dest, "etc/leoflow/leoflow.toml")).uid;
    expect(uid).not.toBe(0);
    for (const dir of ["var/lib/leoflow", "var/lib/leoflow/dags"]) {
      expect(statSync(join(dest, dir)).mode & 0o777).toBe(0o750);
      expect(statSync(join(dest, dir)).uid).toBe(uid);
    }
    const config = join(dest, "etc/leoflow/leoflow.toml");
    expect(statSync(config).mode & 0o777).toBe(0o600);
    const values = Bun.TOML.parse(readFileSync(config, "utf8")) as Record<string, unknown>;
    expect(values).toMatchObject({
      mode: "lite",
      data_dir: "/var/lib/leoflow",
      dags_folder: "/var/lib/leoflow/dags",
      host: "127.0.0.1",
      port: 8080,
    });
    expect(values.jwt_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(values.secrets_key).toMatch(/^[0-9a-f]{64}$/);
    expect(values.admin_password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(first.output).toContain(`admin password: ${values.admin_password}`);
    // The file is a valid config for the installed binary (its own paths replaced: they are not on this host).
    const show = await $`${join(dest, "usr/local/bin/leoflow")} config show --config ${config} --data-dir ${work}/data`.quiet().nothrow();
    expect(show.stdout.toString()).toContain('admin_password = "<redacted>"  # file');
    expect(show.stdout.toString()).not.toContain(String(values.admin_password));
  });

  test("--systemd writes the hardened unit, and systemd-analyze verify accepts it", async () => {
    const unit = readFileSync(join(dest, "etc/systemd/system/leoflow.service"), "utf8");
    expect(unit).toContain("ExecStart=/usr/local/bin/leoflow serve --config /etc/leoflow/leoflow.toml\n");
    expect(unit).toContain("Type=notify\n");
    expect(unit).toContain("ReadWritePaths=/var/lib/leoflow\n");
    if (!Bun.which("systemd-analyze") && process.env.CI === "true") await $`apt-get install -y --no-install-recommends systemd`.quiet(); // Debian's systemd package
    if (!Bun.which("systemd-analyze")) return console.warn("systemd-analyze missing (apt-get install systemd): unit not verified");
    // verify checks that ExecStart exists on this host: point it at the DESTDIR copy, nothing else changed.
    const copy = join(work, "verify", "leoflow.service");
    await $`mkdir -p ${join(work, "verify")}`;
    writeFileSync(copy, unit.replace("ExecStart=/usr/local/bin/leoflow", `ExecStart=${dest}/usr/local/bin/leoflow`));
    const r = await $`systemd-analyze verify ${copy}`.quiet().nothrow();
    expect(r.stderr.toString()).toBe("");
    expect(r.exitCode).toBe(0);
  });

  test("running it again upgrades the binary and keeps the config and its secrets", async () => {
    const config = join(dest, "etc/leoflow/leoflow.toml");
    const before = readFileSync(config, "utf8");
    const again = await installInto(dest, ["--systemd"]); // no --version: the newest in SHA256SUMS
    expect(again.code).toBe(0);
    expect(again.output).toContain("kept /etc/leoflow/leoflow.toml (it exists");
    expect(again.output).not.toContain("admin password:");
    expect(readFileSync(config, "utf8")).toBe(before);
  });

  test("refuses an archive that does not match SHA256SUMS, and installs nothing", async () => {
    const tampered = join(work, "tampered");
    cpSync(out, tampered, { recursive: true });
    const bytes = readFileSync(join(tampered, ARCHIVE));
    const at = bytes.length - 100;
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    writeFileSync(join(tampered, ARCHIVE), bytes);
    const dest2 = join(work, "root2");
    const r = await installInto(dest2, [], tampered);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`${ARCHIVE} does not match SHA256SUMS`);
    expect(r.output).toContain("nothing was installed");
    expect(existsSync(join(dest2, "usr/local/bin/leoflow"))).toBe(false);
  });

  test("says so when the release has no archive for the machine", async () => {
    const r = await installInto(join(work, "root3"), ["--target", "linux-riscv64"]);
    expect(r.code).toBe(1);
    expect(r.output).toContain("has no archive for linux-riscv64");
  });
});
