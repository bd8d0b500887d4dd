/**
 * A Pro deployment for tests: real `dist/leoflow serve --mode=pro` replicas on one fresh Postgres schema,
 * behind a small load balancer that agents report through (their --advertise-url), as in a real deployment.
 * Replicas start one at a time, so the first one leads and migration and the admin user happen once.
 *
 * @example
 * const cluster = new ProCluster({ dir, names: ["r1", "r2", "r3"] });
 * beforeAll(() => cluster.start(join(dir, "dags")), 60_000);
 * afterAll(() => cluster.stop());
 */
import { join } from "node:path";
import postgres from "postgres";
import { pgUrl, pgUrlWithSchema, uniqueSchemaName } from "./postgres";
import { startLeoflow, waitFor, type Leoflow } from "../e2e/harness";

/** `serve` flags of a Pro replica on `db` for tests: the subprocess executor, shared JWT secret and secrets key. */
export const proFlags = (db: string): string[] => [
  "--db",
  db,
  "--mode=pro",
  "--executor=subprocess",
  "--jwt-secret=pro-cluster-shared-secret-0123456789",
  `--secrets-key=${"0".repeat(63)}1`,
];

export interface ProClusterOptions {
  /** Each replica gets `<dir>/<name>` as its working directory. */
  dir: string;
  names?: string[];
  jwtSecret?: string;
  /** Extra `serve` flags for every replica. */
  args?: string[];
  env?: Record<string, string>;
}

export class ProCluster {
  readonly schema = uniqueSchemaName();
  readonly db = pgUrlWithSchema(this.schema);
  readonly replicas: Leoflow[] = [];
  /** Replica URLs the load balancer forwards to; one that fails to answer is dropped. */
  readonly alive = new Set<string>();
  private lb: ReturnType<typeof Bun.serve> | undefined;
  private next = 0;

  constructor(private readonly opts: ProClusterOptions) {}

  /** Starts the load balancer, then the replicas one at a time; resolves once all serve and the first leads. */
  async start(dagsFrom: string): Promise<void> {
    // The load balancer: any live replica serves any request; a dead one is skipped.
    this.lb = Bun.serve({ port: 0, fetch: (req) => this.forward(req) });
    const args = [
      "--mode=pro",
      `--db=${this.db}`,
      "--executor=subprocess",
      `--jwt-secret=${this.opts.jwtSecret ?? "pro-cluster-shared-secret-0123456789"}`,
      // Shared by every replica, as the JWT secret is (Pro refuses to start without one).
      "--secrets-key=0000000000000000000000000000000000000000000000000000000000000001",
      `--advertise-url=http://127.0.0.1:${this.lb.port}`,
      ...(this.opts.args ?? []),
    ];
    const names = this.opts.names ?? ["r1", "r2", "r3"];
    for (const name of names) {
      const lf = await startLeoflow({ dir: join(this.opts.dir, name), args, dagsFrom, env: this.opts.env });
      this.replicas.push(lf);
      this.alive.add(lf.url);
      if (name === names[0])
        await waitFor(
          () => lf.output().includes("became scheduler leader"),
          20_000,
          () => `${name} never led:\n${lf.output()}`,
        );
    }
  }

  /** Stops every replica still running, the load balancer, and drops the schema. */
  async stop(): Promise<void> {
    await Promise.all(this.replicas.map((r) => (r.proc.exitCode === null && !r.proc.killed ? r.stop() : undefined)));
    this.lb?.stop(true);
    const sql = postgres(pgUrl(), { max: 1, onnotice: () => {} });
    await sql.unsafe(`DROP SCHEMA IF EXISTS "${this.schema}" CASCADE`).catch(() => {});
    await sql.end({ timeout: 1 });
  }

  private async forward(req: Request): Promise<Response> {
    const u = new URL(req.url);
    const body = req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer();
    const headers = new Headers(req.headers);
    headers.delete("host");
    const targets = [...this.alive];
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(this.next++ + i) % targets.length]!;
      try {
        const res = await fetch(target + u.pathname + u.search, { method: req.method, headers, body });
        const out = new Headers(res.headers);
        out.delete("content-encoding");
        out.delete("content-length");
        return new Response(await res.arrayBuffer(), { status: res.status, headers: out });
      } catch {
        this.alive.delete(target);
      }
    }
    return new Response("no replica answered", { status: 502 });
  }
}
