/**
 * Keeps the store in step with one team's DAGs folder: new and changed files are parsed and their DAGs upserted
 * into that team (a dag_id is unique within its team; the same dag_id in two teams' folders is two DAGs),
 * problems become import errors, DAGs of deleted files (or removed from a file) are deactivated. Only
 * changed files (by mtime and size) are re-parsed, through the parser it is given — out of process in the
 * server (isolated-parser.ts). A bad file never stops the sync.
 */
import { watch, type FSWatcher } from "node:fs";
import { resolve, sep } from "node:path";
import type { Logger } from "../observability";
import type { DagSyncStore } from "../store";
import type { DagSpec } from "../domain";
import { isCodeFile } from "./file-kinds";
import type { LoadResult } from "./loader";
import type { DagParser } from "./isolated-parser";
import { helpersDigest } from "./parse-cache";
import { listDagFiles, listHelperFiles } from "./scan";

export interface DagFolderSyncOptions {
  /** The team the folder's DAGs and import errors belong to. */
  team: string;
  folder: string;
  /** Only the folder's own files, not its subfolders (the team default's under --dags-folder-layout=teams). */
  topOnly?: boolean;
  store: DagSyncStore;
  /** The server passes an IsolatedDagParser; tests of the sync logic may pass inProcessParser. */
  parser: DagParser;
  /** Server default for DAGs seen for the first time; a DAG's own is_paused_upon_creation wins. */
  pausedOnCreate: boolean;
  logger: Logger;
  /** Fallback poll for file systems where fs.watch misses events. Default 2000. */
  pollIntervalMs?: number;
  /** Called with the dag_ids whose version or activity changed. */
  onChange?: (dagIds: string[]) => void;
  /** Server policy (e.g. the docker executor's allowlist): issues refuse the DAG as import errors. */
  admit?: (spec: DagSpec, team: string) => { path: string; message: string }[];
  /**
   * How long a sync waits for its parses while none of them ends before it returns and leaves the rest to their
   * parses (their results are stored when those end). Default 3000.
   */
  stalledParseMs?: number;
}

export interface SyncReport {
  /** DAG files found in the folder. */
  files: number;
  /** Files parsed this time (new or changed). */
  parsed: string[];
  /** Files gone since the last sync. */
  removed: string[];
  /** dag_ids with a new version, newly seen, or deactivated. */
  changedDagIds: string[];
  /** Files that now have import errors. */
  filesWithErrors: string[];
  /** Files still being parsed when the sync returned: their outcome is stored (and announced) when it ends. */
  parsing: string[];
}

interface FileState {
  mtimeMs: number;
  size: number;
  /** dag_ids this file defines and owns. */
  owned: string[];
  /** dag_ids this file defines but another file owns (reported as import errors). */
  refused: string[];
}

const DEBOUNCE_MS = 200;
/** A page as large as a team's DAGs or import errors can be: the whole list. */
const ALL_ROWS = 1_000_000;
/** Longest a file defining a new dag_id waits for the files before it in path order (most parse in well under it). */
const NEW_DAG_WAIT_MS = 1_000;

type ScannedFile = Awaited<ReturnType<typeof listDagFiles>>[number];

/** Whether `work` settled within `ms` (its rejection is thrown); the timer does not keep the process alive. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((r) => {
    timer = setTimeout(() => r(false), ms);
    timer.unref?.();
  });
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
const emptyReport = (): SyncReport => ({ files: 0, parsed: [], removed: [], changedDagIds: [], filesWithErrors: [], parsing: [] });

export class DagFolderSync {
  private readonly folder: string;
  private readonly files = new Map<string, FileState>();
  private readonly versions = new Map<string, number>();
  private watcher: FSWatcher | null = null;
  private poll: ReturnType<typeof setInterval> | null = null;
  private debounce: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<SyncReport | null> | null = null;
  private rerun = false;
  /** mtime/size of the helper modules last seen, and the digest of their bytes (see parse-cache.ts). */
  private helperStamp = "";
  private helpers = "";
  /** Files whose parse a sync started and whose outcome is not stored yet: a later sync leaves them to it. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Outcomes stored so far (a sync's measure of progress), one at a time through `storing`. */
  private stored = 0;
  private storing: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(private readonly opts: DagFolderSyncOptions) {
    this.folder = resolve(opts.folder);
  }

  /**
   * Scans once and applies what changed. Rejects only when the folder itself is unusable (missing, not a
   * folder); problems in files become import errors. `whole` (the default): returns once every file's outcome
   * is stored, however long a parse takes (up to the parse timeout), so the caller finds every DAG in the store
   * (the server's first scan, before it says it is serving). Not whole (the watcher's and poller's scans):
   * returns once no parse has ended for stalledParseMs, leaving the files still parsing to their parses, so an
   * edit made meanwhile is taken by the next scan.
   *
   * @example const report = await sync.syncOnce(); // at server start, before start()
   */
  async syncOnce(now: Date = new Date(), { whole = true }: { whole?: boolean } = {}): Promise<SyncReport> {
    const scanned = await listDagFiles(this.folder, { topOnly: this.opts.topOnly });
    const report: SyncReport = { ...emptyReport(), files: scanned.length };
    const sync = { returned: false };
    const present = new Set(scanned.map((f) => f.path));
    if (await this.refreshHelpers()) {
      // A helper changed: code files may import it, so they are parsed again (their cache key changed too).
      for (const f of scanned) {
        const state = this.files.get(f.path);
        if (state && isCodeFile(f.path)) state.mtimeMs = -1; // stale, but keeps what it owns
      }
    }

    for (const file of [...this.files.keys()].filter((f) => !present.has(f))) {
      await this.serially(() =>
        this.guard(file, async () => {
          const owned = this.files.get(file)?.owned ?? [];
          await this.opts.store.deactivateDagsOfFile(this.opts.team, file, []);
          await this.opts.store.replaceImportErrors(this.opts.team, file, [], now);
          this.files.delete(file);
          this.release(owned);
          report.removed.push(file);
          report.changedDagIds.push(...owned);
        }),
      );
    }

    // Two passes: a file that gave up a dag_id lets a file refused for that id claim it in the second. A pass
    // whose parses stall leaves the second to a later sync (the released files are changed for it).
    try {
      for (let pass = 0; pass < 2; pass++) {
        const changed = scanned.filter((f) => {
          const s = this.files.get(f.path);
          return !this.inFlight.has(f.path) && (!s || s.mtimeMs !== f.mtimeMs || s.size !== f.size);
        });
        if (changed.length === 0) break;
        const stored = this.parseAndStore(changed, now, report, sync);
        if (whole) await Promise.all(stored);
        else if (!(await this.settledOrStalled(stored))) break;
      }
    } finally {
      // From here on an outcome stored late is announced on its own (parseAndStore).
      await this.serially(async () => {
        sync.returned = true;
      });
    }
    // A whole scan knows every file of the folder: what the store still ties to a file that is not one of them is gone.
    if (whole && this.inFlight.size === 0)
      await this.serially(() =>
        this.retireGoneFiles(present, now, report).catch((e) =>
          this.opts.logger.warn("retiring the DAGs of files gone from the DAGs folder failed; the next whole scan retries", {
            team: this.opts.team,
            error: e,
          }),
        ),
      );
    report.parsing = [...this.inFlight.keys()].sort();
    report.changedDagIds = [...new Set(report.changedDagIds)].sort();
    report.parsed.sort();
    report.filesWithErrors.sort();
    if (report.changedDagIds.length) this.opts.onChange?.(report.changedDagIds);
    return report;
  }

  /** Watches the folder (debounced) and polls as a fallback. Call syncOnce() first to fail fast. */
  start(): void {
    if (this.poll) return;
    this.stopped = false;
    this.poll = setInterval(() => this.trigger(), this.opts.pollIntervalMs ?? 2000);
    try {
      this.watcher = watch(this.folder, { recursive: true }, () => {
        if (this.debounce) clearTimeout(this.debounce);
        this.debounce = setTimeout(() => this.trigger(), DEBOUNCE_MS);
      });
      this.watcher.on("error", (e) => {
        this.opts.logger.warn("watching the DAG folder failed; polling only", { team: this.opts.team, folder: this.folder, error: e });
        this.watcher?.close();
        this.watcher = null;
      });
    } catch (e) {
      this.opts.logger.warn("cannot watch the DAG folder; polling only", { team: this.opts.team, folder: this.folder, error: e });
    }
  }

  /** Stops watching; a parse still under way stores nothing when it ends. */
  stop(): void {
    this.stopped = true;
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
    this.watcher?.close();
    this.poll = this.debounce = this.watcher = null;
  }

  /**
   * Parses `file` again now, even if unchanged (Airflow's PUT /parseDagFile), and resolves once the store has
   * the result; waits for a sync under way first. A file outside the folder is refused; a gone file's DAGs
   * are deactivated, as in any sync.
   *
   * @example await sync.reparse("/srv/dags/etl.json");
   */
  async reparse(file: string, now?: Date): Promise<SyncReport> {
    const path = resolve(file);
    if (!path.startsWith(`${this.folder}${sep}`))
      throw new Error(`${path} is not in the DAGs folder ${this.folder} of team "${this.opts.team}"; only files of the folder are parsed`);
    while (this.running) await this.running;
    await this.inFlight.get(path)?.catch(() => {}); // a parse of it under way ends first
    const state = this.files.get(path);
    if (state) state.mtimeMs = -1; // stale: parsed again, keeps what it owns meanwhile
    const report = await this.runSync(now);
    if (!report) throw new Error(`syncing the DAGs folder ${this.folder} failed; the server log says why`);
    await this.inFlight.get(path)?.catch(() => {}); // however long its parse takes (up to the parse timeout)
    return report;
  }

  /** Runs one sync at a time; a request during a sync runs one more after it. */
  private trigger(): void {
    if (this.running) {
      this.rerun = true;
      return;
    }
    void this.runSync();
  }

  /** One sync, recorded as the running one; a failure is logged (the result is then null), never thrown. */
  private runSync(now?: Date): Promise<SyncReport | null> {
    const run = this.syncOnce(now, { whole: false })
      .catch((e) => {
        this.opts.logger.error("DAG folder sync failed", { team: this.opts.team, folder: this.folder, error: e });
        return null;
      })
      .finally(() => {
        this.running = null;
        if (this.rerun) {
          this.rerun = false;
          this.trigger();
        }
      });
    this.running = run;
    return run;
  }

  /**
   * Parses `changed` all at once (the parser runs several parse processes) and stores each file's outcome once
   * its own parse ends, one store write at a time: a file that parses slowly (up to the parse timeout) holds
   * back no other file's DAGs or import errors, and until its outcome is stored a later sync leaves it to this
   * parse. Path order decides a dag_id two files define: a file defining one it does not own yet waits for the
   * files before it, though no longer than NEW_DAG_WAIT_MS (a file that slow to parse comes second). An outcome
   * stored after `sync` returned goes into a report of its own, announced with onChange, unless its file is gone by
   * then (a later sync's removal has it).
   */
  private parseAndStore(changed: ScannedFile[], now: Date, report: SyncReport, sync: { returned: boolean }): Promise<void>[] {
    const results = changed.map(() => Promise.withResolvers<LoadResult>());
    const index = new Map(changed.map((f, i) => [resolve(f.path), i]));
    const parsed = this.opts.parser.parse(
      changed.map((f) => f.path),
      this.helpers,
      this.opts.team,
      (r) => results[index.get(resolve(r.file)) ?? -1]?.resolve(r),
    );
    parsed.then(
      (all) => {
        for (const [i, r] of all.entries()) results[i]!.resolve(r);
      },
      (e) => {
        for (const r of results) r.reject(e);
      },
    );
    const stored: Promise<void>[] = [];
    for (const [i, f] of changed.entries()) {
      const done = results[i]!.promise.then(async (loaded) => {
        if (this.claimsNew(f.path, loaded)) await within(Promise.all(stored.slice(0, i)), NEW_DAG_WAIT_MS);
        let late: SyncReport | null = null;
        await this.serially(() =>
          this.guard(f.path, async () => {
            if (this.stopped) return;
            // Late, the file may have gone since its scan (that scan's removal could not see it: it was in flight).
            if (sync.returned && !(await Bun.file(f.path).exists())) return;
            const into = sync.returned ? (late = emptyReport()) : report;
            const result = await this.apply(loaded, now, into);
            this.files.set(f.path, { mtimeMs: f.mtimeMs, size: f.size, ...result });
            if (!into.parsed.includes(f.path)) into.parsed.push(f.path);
          }),
        );
        if (late) this.announceLate(f.path, late);
      });
      const settled = done.finally(() => {
        this.inFlight.delete(f.path);
        this.stored++;
      });
      settled.catch(() => {}); // the sync that started it awaits `done`, or has returned (stalled) without it
      this.inFlight.set(f.path, settled);
      stored.push(done);
    }
    return stored;
  }

  /**
   * True once every outcome is stored; false when none was stored for stalledParseMs while some are still
   * parsing (a file in an endless loop until the parse timeout), so the sync returns and a later one runs.
   * Rejects when the parser failed.
   */
  private async settledOrStalled(stored: Promise<void>[]): Promise<boolean> {
    const all = Promise.all(stored);
    for (;;) {
      const before = this.stored;
      if (await within(all, this.opts.stalledParseMs ?? 3_000)) return true;
      if (this.stored === before) return false;
    }
  }

  /** Store writes one at a time: an outcome's, and a sync's return (which decides where later outcomes go). */
  private serially<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.storing.then(work);
    this.storing = turn.catch(() => {});
    return turn;
  }

  /** The outcome of a file whose parse ended after its sync returned. */
  private announceLate(file: string, late: SyncReport): void {
    const ids = [...new Set(late.changedDagIds)].sort();
    this.opts.logger.info("a DAG file's slow parse ended; its outcome is stored", {
      team: this.opts.team,
      file,
      ...(ids.length ? { changed_dag_ids: ids.join(",") } : {}),
    });
    if (ids.length) this.opts.onChange?.(ids);
  }

  /** `loaded` defines a dag_id that `file` does not own yet: which file gets it may depend on the files before it. */
  private claimsNew(file: string, loaded: LoadResult): boolean {
    const owned = this.files.get(file)?.owned ?? [];
    return loaded.dags.some((d) => !owned.includes(d.spec.dag_id));
  }

  /** Writes one file's outcome to the store; returns which dag_ids it owns and which it was refused. */
  private async apply(loaded: LoadResult, now: Date, report: SyncReport): Promise<Pick<FileState, "owned" | "refused">> {
    const { store } = this.opts;
    const previous = this.files.get(loaded.file);
    const errors = loaded.errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message));
    const owned: string[] = [];
    const refused: string[] = [];
    for (const { spec } of loaded.dags) {
      const refusal = this.opts.admit?.(spec, this.opts.team) ?? [];
      if (refusal.length) {
        errors.push(...refusal.map((i) => `${spec.dag_id}: ${i.path}: ${i.message}`));
        continue;
      }
      const owner = await this.ownerOf(spec.dag_id, loaded.file);
      if (owner) {
        refused.push(spec.dag_id);
        errors.push(`dag_id: dag_id "${spec.dag_id}" is already defined in ${owner}; rename one of them`);
        continue;
      }
      const record = await store.upsertDag(this.opts.team, {
        spec,
        fileloc: loaded.file,
        pausedOnCreate: spec.is_paused_upon_creation ?? this.opts.pausedOnCreate,
        now,
      });
      owned.push(spec.dag_id);
      if (this.versions.get(spec.dag_id) !== record.version_id || !previous?.owned.includes(spec.dag_id))
        report.changedDagIds.push(spec.dag_id);
      this.versions.set(spec.dag_id, record.version_id);
    }
    // A file that fails to load deactivates none of its DAGs, as in Airflow 3: they keep their last good version
    // (and their schedules) beside the import error until the file loads clean without them, or is deleted. A
    // typo in a deploy no longer stopped a DAG's schedule; its DAG shows has_import_errors meanwhile.
    if (errors.length) owned.push(...(previous?.owned ?? []).filter((id) => !owned.includes(id) && !refused.includes(id)));
    else await store.deactivateDagsOfFile(this.opts.team, loaded.file, owned);
    await store.replaceImportErrors(this.opts.team, loaded.file, errors, now);
    const dropped = (previous?.owned ?? []).filter((id) => !owned.includes(id));
    report.changedDagIds.push(...dropped);
    this.release(dropped);
    if (errors.length) {
      report.filesWithErrors.push(loaded.file);
      this.opts.logger.warn("DAG file has import errors", {
        team: this.opts.team,
        file: loaded.file,
        errors: errors.length,
        first: errors[0],
      });
    }
    return { owned, refused };
  }

  /**
   * The other file that owns `dagId`, or null if `file` may take it: a file synced earlier keeps its DAGs;
   * at a fresh start the store's record decides, so ownership does not flip across restarts.
   */
  private async ownerOf(dagId: string, file: string): Promise<string | null> {
    for (const [other, s] of this.files) if (other !== file && s.owned.includes(dagId)) return other;
    const record = await this.opts.store.getDag(this.opts.team, dagId);
    const unsyncedOwner =
      record?.is_active && record.fileloc !== file && record.fileloc.startsWith(this.folder) && !this.files.has(record.fileloc);
    if (unsyncedOwner && (await Bun.file(record.fileloc).exists())) {
      // The recorded owner has not been synced yet in this process: it keeps the DAG if it still defines it.
      const [{ dags }] = (await this.opts.parser.parse([record.fileloc], this.helpers, this.opts.team)) as [LoadResult];
      if (dags.some((d) => d.spec.dag_id === dagId)) return record.fileloc;
    }
    return null;
  }

  /**
   * After a whole scan (at start, on reload): the team's active DAGs that no file of the folder defines and whose
   * recorded file is not one of the folder's are deactivated, and import errors of files not in the folder are
   * dropped, as Airflow's DAG processor deactivates the DAGs whose files are gone. Without it a file deleted while no
   * server ran, or the DAGs and errors recorded while a server ran with another --dags-folder path, stayed tied to
   * that path for good: listed active, scheduled, their file nowhere. (A DAG this folder does define was already
   * moved to its file here by its parse.) A DAG whose file is in the folder but fails to load keeps its last version.
   */
  private async retireGoneFiles(present: Set<string>, now: Date, report: SyncReport): Promise<void> {
    const { store, team } = this.opts;
    const defined = new Set([...this.files.values()].flatMap((s) => s.owned));
    const dags = (await store.findDags(team, { only_active: true, limit: ALL_ROWS })).items;
    const gone = dags.filter((d) => !present.has(d.fileloc) && !defined.has(d.dag_id));
    for (const file of new Set(gone.map((d) => d.fileloc))) await store.deactivateDagsOfFile(team, file, [...defined]);
    const errors = (await store.listImportErrors(team, { limit: ALL_ROWS })).items;
    const errorFiles = [...new Set(errors.map((e) => e.filename).filter((f) => !present.has(f)))];
    for (const file of errorFiles) await store.replaceImportErrors(team, file, [], now);
    if (gone.length === 0 && errorFiles.length === 0) return;
    report.changedDagIds.push(...gone.map((d) => d.dag_id));
    this.opts.logger.info("DAGs and import errors of files no longer in the DAGs folder were retired", {
      team,
      folder: this.folder,
      ...(gone.length ? { deactivated: gone.map((d) => `${d.dag_id} (${d.fileloc})`).join(", ") } : {}),
      ...(errorFiles.length ? { import_errors_of: errorFiles.join(", ") } : {}),
    });
  }

  /** Re-reads the helper modules when their mtime or size changed; true when their bytes changed. */
  private async refreshHelpers(): Promise<boolean> {
    const found = await listHelperFiles(this.folder, { topOnly: this.opts.topOnly });
    const stamp = found.map((f) => `${f.path}:${f.mtimeMs}:${f.size}`).join("\n");
    if (stamp === this.helperStamp) return false;
    this.helperStamp = stamp;
    const read = await Promise.all(
      found.map(async (f) => ({
        path: f.path,
        content: await Bun.file(f.path)
          .bytes()
          .catch(() => new Uint8Array()),
      })),
    );
    const digest = helpersDigest(read);
    const changed = digest !== this.helpers;
    this.helpers = digest;
    return changed;
  }

  /** Forgets refusals for released ids so those files are re-parsed (the second pass) and may claim them. */
  private release(ids: string[]): void {
    if (ids.length === 0) return;
    for (const [file, s] of this.files) if (s.refused.some((id) => ids.includes(id))) this.files.delete(file);
  }

  /** Logs and skips a file whose store writes failed; it is retried on the next sync. */
  private async guard(file: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.files.delete(file);
      this.opts.logger.error("syncing a DAG file failed; will retry", { team: this.opts.team, file, error: e });
    }
  }
}
