/** The files `leoflow install --systemd` writes, as text (pure). */
import { describe, expect, test } from "bun:test";
import { installSettings, renderUnit, sysusersLine } from "../../../src/cli/install-files";

const layout = { binary: "/usr/local/bin/leoflow", config: "/etc/leoflow/leoflow.toml", dataDir: "/var/lib/leoflow", user: "leoflow" };

describe("renderUnit", () => {
  const unit = renderUnit(layout);

  test("runs serve with the config file as the service user, notify-typed with a watchdog", () => {
    expect(unit).toContain("ExecStart=/usr/local/bin/leoflow serve --config /etc/leoflow/leoflow.toml\n");
    expect(unit).toContain("User=leoflow\nGroup=leoflow\n");
    expect(unit).toContain("Type=notify\n");
    expect(unit).toContain("WatchdogSec=60s\n");
    expect(unit).toContain("Restart=on-failure\n");
    expect(unit).not.toMatch(/@[A-Z_]+@/);
  });

  test("sets the allocator to hand freed pages back after 1 s (less CPU under load on VMs, docs/performance.md)", () => {
    expect(unit).toContain("Environment=MIMALLOC_PURGE_DELAY=1000\n");
    expect(unit).toContain("Environment=BUN_JSC_useWarmUpMarkedBlocks=false\n");
  });

  test("is hardened: no new privileges, read-only system but the data dir, no capabilities", () => {
    for (const line of [
      "NoNewPrivileges=yes",
      "ProtectSystem=strict",
      "ProtectHome=yes",
      "PrivateTmp=yes",
      "ReadWritePaths=/var/lib/leoflow",
      "CapabilityBoundingSet=\n",
    ])
      expect(unit).toContain(line);
  });

  test("refuses paths and users systemd would misread", () => {
    expect(() => renderUnit({ ...layout, binary: "/opt/my leoflow/leoflow" })).toThrow(
      'the binary path "/opt/my leoflow/leoflow" must be absolute',
    );
    expect(() => renderUnit({ ...layout, dataDir: "data" })).toThrow("must be absolute");
    expect(() => renderUnit({ ...layout, user: "Leo Flow" })).toThrow('"Leo Flow" is not a valid system user name');
  });
});

test("sysusers.d line: a system user whose home is the data dir, without a login shell", () => {
  expect(sysusersLine(layout)).toBe('u leoflow - "Leoflow workflow orchestrator" /var/lib/leoflow /usr/sbin/nologin\n');
});

test("a fresh install sets Lite on the data dir, and the generated secrets", () => {
  const secrets = { adminPassword: "pw", jwtSecret: "j".repeat(64), secretsKey: "k".repeat(64) };
  expect(installSettings(layout, { host: "127.0.0.1", port: 8080, secrets })).toEqual({
    mode: "lite",
    host: "127.0.0.1",
    port: 8080,
    "data-dir": "/var/lib/leoflow",
    "dags-folder": "/var/lib/leoflow/dags",
    "jwt-secret": "j".repeat(64),
    "secrets-key": "k".repeat(64),
    "admin-password": "pw",
  });
});
