/**
 * The peers (BullMQ on Redis, graphile-worker on Postgres), installed on demand with npm into
 * scripts/benchmarks/.peers/ (gitignored) at pinned versions, never into Leoflow's package.json.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const PEERS_DIR = resolve(import.meta.dir, "../.peers");
/** Pinned so a table names exactly what ran. ioredis is BullMQ's Redis client. */
export const PEER_VERSIONS = { bullmq: "6.7.0", "graphile-worker": "0.18.0", ioredis: "5.9.3" } as const;

type PeerName = keyof typeof PEER_VERSIONS;

function installedVersion(name: PeerName): string | null {
  const file = join(PEERS_DIR, "node_modules", name, "package.json");
  if (!existsSync(file)) return null;
  return (require(file) as { version: string }).version;
}

export function peersInstalled(): boolean {
  return (Object.keys(PEER_VERSIONS) as PeerName[]).every((n) => installedVersion(n) === PEER_VERSIONS[n]);
}

/** Installs the pinned peers unless present. Returns why not when it cannot (no npm, registry down). */
export async function ensurePeers(): Promise<string | null> {
  if (peersInstalled()) return null;
  mkdirSync(PEERS_DIR, { recursive: true });
  writeFileSync(
    join(PEERS_DIR, "package.json"),
    JSON.stringify(
      {
        name: "leoflow-bench-peers",
        private: true,
        description: "installed by scripts/bench; not part of Leoflow",
        dependencies: PEER_VERSIONS,
      },
      null,
      2,
    ) + "\n",
  );
  console.error(
    `==> npm install --prefix ${PEERS_DIR} ${Object.entries(PEER_VERSIONS)
      .map(([n, v]) => `${n}@${v}`)
      .join(" ")}`,
  );
  const npm = Bun.spawnSync(["npm", "install", "--prefix", PEERS_DIR, "--no-audit", "--no-fund", "--loglevel=error"], {
    stdout: "inherit",
    stderr: "inherit",
  });
  if (npm.exitCode !== 0) return `npm install into ${PEERS_DIR} failed (exit ${npm.exitCode})`;
  return peersInstalled() ? null : "npm finished but the pinned versions are not in place";
}

export function importPeer<T = any>(name: PeerName): Promise<T> {
  return import(join(PEERS_DIR, "node_modules", name)) as Promise<T>;
}

export const peerLabel = (name: "bullmq" | "graphile-worker") => `${name} ${PEER_VERSIONS[name]}`;

/** True when something accepts TCP connections at host:port within a second. */
export async function tcpOpen(host: string, port: number): Promise<boolean> {
  try {
    const socket = await Promise.race([
      Bun.connect({ hostname: host, port, socket: { data() {} } }),
      Bun.sleep(1000).then(() => Promise.reject(new Error("timeout"))),
    ]);
    socket.end();
    return true;
  } catch {
    return false;
  }
}

export const REDIS = { host: "127.0.0.1", port: 6379 };
