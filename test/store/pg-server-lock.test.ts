/**
 * One Lite server per Postgres schema (store/postgres/server-lock.ts): a second lock is refused naming the holder's
 * session; a lock whose session Postgres ended (pg_terminate_backend, as a Postgres restart would) is taken again
 * at the next check, unless another server took it meanwhile: then onLost names that server.
 */
import { describe, expect, test } from "bun:test";
import postgres from "postgres";
import { fnv1a32 } from "../../src/domain";
import { lockPostgresForServer, type ServerLock } from "../../src/store";
import { describePg, pgUrl, uniqueSchemaName } from "../support/postgres";

describePg("lockPostgresForServer", () => {
  /** A lock id of this test's own, as a schema's would be. */
  const lockIdFor = () => 0x4c656f466c6f77n ^ BigInt(fnv1a32(uniqueSchemaName()));
  /** A session of its own, named as a server's lock session would be. */
  const session = (name: string) => postgres(pgUrl(), { max: 1, onnotice: () => {}, connection: { application_name: name } });

  /** Ends the session holding `lockId` (classid/objid as pg_locks shows a bigint key), waiting until it is gone. */
  async function endHolder(sql: postgres.Sql, lockId: bigint): Promise<void> {
    const ended = await sql`
      select pg_terminate_backend(pid, 5000) as ok from pg_locks
      where locktype = 'advisory' and granted and classid = ${Number(lockId >> 32n)}::oid
        and objid = ${Number(lockId & 0xffffffffn)}::oid and objsubid = 1`;
    expect(ended.map((r) => r.ok)).toEqual([true]);
  }

  const until = async (cond: () => boolean, ms = 10_000) => {
    for (const end = Date.now() + ms; !cond(); await Bun.sleep(20)) if (Date.now() > end) throw new Error("timed out");
  };
  /** A lock for another server, or null when refused. */
  const tryLock = (lockId: bigint, owner: string) =>
    lockPostgresForServer(pgUrl(), { lockId, owner, onLost: () => {} }).then(
      (l) => l,
      () => null,
    );
  /** Tries for up to 2 s: a released lock's session closes a moment after release(). */
  async function lockSoon(lockId: bigint, owner: string): Promise<ServerLock | null> {
    for (const end = Date.now() + 2_000; Date.now() < end; await Bun.sleep(20)) {
      const l = await tryLock(lockId, owner);
      if (l) return l;
    }
    return null;
  }

  test("the second server is refused with who holds the lock; once released it is free", async () => {
    const lockId = lockIdFor();
    const first = await lockPostgresForServer(pgUrl(), { lockId, schema: "s1", owner: "leoflow lite pid 1 on a", onLost: () => {} });
    const refused = await lockPostgresForServer(pgUrl(), {
      lockId,
      schema: "s1",
      owner: "leoflow lite pid 2 on b",
      onLost: () => {},
    }).catch((e) => e as Error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toMatch(
      /^the database postgres:\/\/\S+ \(schema s1\) already has a Leoflow scheduler: leoflow lite pid 1 on a \((from \S+|over a local socket), connected since \S+\) holds its lock; one Lite server per database/,
    );
    first.release();
    const second = await lockSoon(lockId, "b");
    expect(second).not.toBeNull();
    second!.release();
  });

  test("a session Postgres ended is taken again at the next check; taken by another server meanwhile, onLost says by whom", async () => {
    const lockId = lockIdFor();
    const lost: (string | null)[] = [];
    const lock = await lockPostgresForServer(pgUrl(), {
      lockId,
      owner: "leoflow lite one",
      checkEveryMs: 1_000,
      onLost: (h) => lost.push(h),
    });
    // Another server's lock session, which ends the first one's and takes the lock at once (well inside a check's 1 s).
    const two = session("leoflow lite two");
    try {
      await endHolder(two, lockId);
      // Nobody else wants it: the next check's new session takes it again, and the server goes on.
      await Bun.sleep(1_500);
      expect(await tryLock(lockId, "leoflow lite three")).toBeNull();
      expect(lost).toEqual([]);

      // Ended again, and the other server takes the lock before the next check: this one is told to stop.
      await endHolder(two, lockId);
      const [taken] = await two`select pg_try_advisory_lock(${lockId.toString()}::bigint) as ok`;
      expect(taken!.ok).toBe(true);
      await until(() => lost.length > 0);
      expect(lost[0]).toStartWith("leoflow lite two (");
    } finally {
      lock.release();
      await two.end({ timeout: 1 });
    }
  });
});

describe("lockPostgresForServer without Postgres", () => {
  test("an unreachable database fails the start saying where and what to check, with the driver's reason", async () => {
    const err = await lockPostgresForServer("postgres://nobody@127.0.0.1:1/none", { lockId: 1n, owner: "x", onLost: () => {} }).catch(
      (e) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^connecting to Postgres at postgres:\/\/nobody@127\.0\.0\.1:1\/none \(schema public\) failed: .*ECONNREFUSED.*; check --db \(host, port, database, user, password\) and that the server is running$/,
    );
  });
});
