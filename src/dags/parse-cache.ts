/**
 * Parse results cached by content hash, so an unchanged DAG file is never parsed twice — not even across a
 * restart, when the cache is kept in a file (the server keeps it in its data dir; each Pro replica has its own).
 *
 * What the key covers: the binary's version, the team whose folder holds the file, the file's path and bytes, the parse limits, and for code files
 * the helpers of its folder (`_`-prefixed files and `_` folders, which DAG files import). What it does not:
 * a DAG file importing another DAG file, modules outside the folder or in node_modules, and anything the
 * code reads at import (environment, network, clock). Such a file is re-parsed when its own bytes change.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { LoadError } from "./loader";
import type { ParseLimits } from "./parse-policy";

export interface CacheKeyInput {
  version: string;
  /** The team whose folder holds the file: teams never share a cached result. */
  team: string;
  file: string;
  /** The file's bytes, or a digest of them. */
  content: Uint8Array | string;
  /** Digest of the folder's helper modules (code files only; "" for data files). */
  helpers: string;
  limits: ParseLimits;
}

/**
 * sha256 over everything a parse result depends on (see the module doc for what is not covered).
 *
 * @example parseCacheKey({ version: "1.0.0", team: "default", file: "/dags/etl.json", content: "{…}", helpers: "", limits })
 */
export function parseCacheKey(k: CacheKeyInput): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(`leoflow-parse/2\0${k.version}\0${k.team}\0${k.file}\0${k.helpers}\0${k.limits.timeoutMs}\0${k.limits.memoryBytes}\0`);
  h.update(k.content);
  return h.digest("hex");
}

/** One digest for a set of helper files: their paths and bytes, in path order. */
export function helpersDigest(files: { path: string; content: Uint8Array | string }[]): string {
  if (files.length === 0) return "";
  const h = new Bun.CryptoHasher("sha256");
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    h.update(`${f.path}\0${typeof f.content === "string" ? f.content.length : f.content.byteLength}\0`);
    h.update(f.content);
  }
  return h.digest("hex");
}

/** What is kept per key: the DAG specs as plain JSON and the errors. */
export interface CachedResult {
  dags: unknown[];
  errors: LoadError[];
}

interface Entry extends CachedResult {
  /** Last use, ms since epoch: entries unused for long are dropped when the cache is saved. */
  used: number;
}

const FORMAT = 1;
/** Entries unused this long are dropped at save (superseded versions of edited files). */
const MAX_IDLE_MS = 14 * 86_400_000;
const MAX_ENTRIES = 50_000;

export class ParseCache {
  private readonly entries = new Map<string, Entry>();
  private dirty = false;

  /** `file`: where the cache persists (null: memory only, e.g. `leoflow dags validate`). */
  private constructor(private readonly file: string | null) {}

  /** Opens a cache, reading `file` if it exists; an unreadable file is ignored (everything is re-parsed). */
  static async open(file: string | null): Promise<ParseCache> {
    const cache = new ParseCache(file);
    if (!file) return cache;
    try {
      const data = JSON.parse(await readFile(file, "utf8")) as { format?: number; entries?: Record<string, Entry> };
      if (data.format === FORMAT && data.entries && typeof data.entries === "object")
        for (const [key, e] of Object.entries(data.entries))
          if (Array.isArray(e?.dags) && Array.isArray(e?.errors))
            cache.entries.set(key, { dags: e.dags, errors: e.errors, used: Number(e.used) || 0 });
    } catch {
      // Missing or damaged: start empty; the next save rewrites it.
    }
    return cache;
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: string, now: number): CachedResult | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now - e.used > 3_600_000) (e.used = now), (this.dirty = true); // hourly is precise enough for pruning
    return e;
  }

  set(key: string, value: CachedResult, now: number): void {
    this.entries.set(key, { dags: value.dags, errors: value.errors, used: now });
    this.dirty = true;
  }

  /** Writes the cache if it changed (temp file + rename, so a crash never leaves half a file). */
  async save(now: number): Promise<void> {
    if (!this.file || !this.dirty) return;
    this.dirty = false;
    const keep = [...this.entries].filter(([, e]) => now - e.used <= MAX_IDLE_MS);
    keep.sort((a, b) => b[1].used - a[1].used);
    this.entries.clear();
    for (const [k, e] of keep.slice(0, MAX_ENTRIES)) this.entries.set(k, e);
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify({ format: FORMAT, entries: Object.fromEntries(this.entries) }));
    await rename(tmp, this.file);
  }
}
