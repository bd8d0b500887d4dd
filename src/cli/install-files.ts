/**
 * What `leoflow install --systemd` writes, as text (pure; install.ts does the I/O): the unit from
 * packaging/leoflow.service, the sysusers.d line for the service user, and the settings of the config file.
 */
import unitTemplate from "../../packaging/leoflow.service" with { type: "text" };

export interface InstallLayout {
  /** The binary's path on the target system (ExecStart). */
  binary: string;
  config: string;
  dataDir: string;
  user: string;
}

/**
 * What is wrong with a layout, or null: a path systemd would split or misread, a user name sysusers refuses.
 * install.ts asks before it writes anything, so a bad flag never leaves half an install (a kept config) behind.
 */
export function layoutProblem(layout: InstallLayout): string | null {
  for (const [what, path] of [
    ["binary", layout.binary],
    ["config", layout.config],
    ["data dir", layout.dataDir],
  ] as const)
    if (!/^\/[A-Za-z0-9._/+-]*$/.test(path))
      return `the ${what} path "${path}" must be absolute and made of letters, digits and ._/+- for the unit file`;
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(layout.user))
    return `"${layout.user}" is not a valid system user name (lowercase letters, digits, _ and -, at most 32)`;
  return null;
}

/** The unit, its @…@ fields filled in. Throws on a path systemd would split or misread. */
export function renderUnit(layout: InstallLayout): string {
  const problem = layoutProblem(layout);
  if (problem) throw new Error(problem);
  return unitTemplate
    .replaceAll("@BINARY@", layout.binary)
    .replaceAll("@CONFIG@", layout.config)
    .replaceAll("@DATA_DIR@", layout.dataDir)
    .replaceAll("@USER@", layout.user);
}

/** sysusers.d(5): a system user and group of that name, its home the data dir, no login shell. */
export function sysusersLine(layout: InstallLayout): string {
  return `u ${layout.user} - "Leoflow workflow orchestrator" ${layout.dataDir} /usr/sbin/nologin\n`;
}

/** The settings a fresh install writes into leoflow.toml (the rest stay commented, with their defaults). */
export function installSettings(
  layout: InstallLayout,
  opts: { host: string; port: number; secrets: { adminPassword: string; jwtSecret: string; secretsKey: string } },
): Record<string, string | number> {
  return {
    mode: "lite",
    host: opts.host,
    port: opts.port,
    "data-dir": layout.dataDir,
    "dags-folder": `${layout.dataDir}/dags`,
    "jwt-secret": opts.secrets.jwtSecret,
    "secrets-key": opts.secrets.secretsKey,
    "admin-password": opts.secrets.adminPassword,
  };
}

export const INSTALL_HEADER = `# leoflow.toml, written by 'leoflow install --systemd'. It holds this install's secrets: keep it mode 0600,
# owned by the service user. Every key is a 'leoflow serve' flag in snake_case; precedence: flags >
# LEOFLOW_* environment > this file > defaults. After a change: systemctl restart leoflow (log_level and the
# DAG folder's contents: systemctl reload leoflow). 'leoflow config show --config <this file>' prints the result.
`;
