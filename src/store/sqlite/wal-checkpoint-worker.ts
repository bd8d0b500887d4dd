/**
 * The WAL checkpointer's thread (wal-checkpointer.ts): its own connection to the server's database file, a
 * PASSIVE checkpoint every `everyMs`. PASSIVE copies what it can without waiting for readers or the writer,
 * so the server's commits never wait for it; the page copies and the fsync happen here, on another core.
 * Messages in: `{ path, everyMs }` to begin, `"close"` to close the connection (answered `"closed"`), so that
 * the server's connection, closing last, checkpoints and removes the WAL as SQLite does on a clean shutdown.
 */
import { Database } from "bun:sqlite";

declare const self: Worker;

type Start = { path: string; everyMs: number };
let db: Database | null = null;
let timer: Timer | null = null;

self.onmessage = (e: MessageEvent<Start | "close">) => {
  if (e.data === "close") {
    if (timer) clearTimeout(timer);
    db?.close();
    db = null;
    postMessage("closed");
    return;
  }
  const { path, everyMs } = e.data;
  const conn = new Database(path);
  conn.run("PRAGMA busy_timeout = 5000");
  db = conn;
  const checkpoint = conn.query<{ busy: number; log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)");
  let previous = "";
  const tick = () => {
    const row = checkpoint.get();
    // Reported when it changed: an idle server's checkpoints find nothing new and wake nobody.
    const text = JSON.stringify(row);
    if (row && text !== previous) postMessage(row);
    previous = text;
    timer = setTimeout(tick, everyMs);
  };
  tick();
};
