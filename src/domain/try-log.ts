/**
 * Lines the server writes into a try's log after whatever its task wrote: why its container ended (the
 * reconcilers), that someone marked or cleared it while it ran (the API). They are numbered on from the try's
 * last stored line; nothing races them for that try, since its agent's lines are refused once the try is no
 * longer live, which is when these are written.
 */
import type { LogLineRecord } from "./records";

export interface TryLogPort {
  lastLogSeq(tiId: number, tryNumber: number): Promise<number>;
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
}

/** Appends `lines` to try `tryNumber` of task instance `tiId`, after its last stored line. */
export async function appendToTryLog(
  store: TryLogPort,
  tiId: number,
  tryNumber: number,
  lines: Omit<LogLineRecord, "seq">[],
): Promise<void> {
  const next = (await store.lastLogSeq(tiId, tryNumber)) + 1;
  await store.appendLogs(tiId, tryNumber, next, lines);
}
