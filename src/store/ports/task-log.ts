/** TaskLogStore: the lines of each try's log, written by agents and the dispatcher, read by the API. */
import type { LogLineRecord } from "../../domain";

/** Lines of one try numbered first_seq, first_seq+1, … (appendLogBatches). */
export interface LogBatch {
  ti_id: number;
  try_number: number;
  first_seq: number;
  lines: Omit<LogLineRecord, "seq">[];
}

export interface TaskLogStore {
  /**
   * Stores lines numbered firstSeq, firstSeq+1, … (one row: log-chunks.ts); lines already stored are ignored: a
   * batch resent from a first seq already stored adds only its lines past that batch's last. Where batches from
   * different first seqs overlap (no writer does: a resend repeats its batch), the lower first seq's line is read.
   */
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
  /** appendLogs for many tries in one write (the inline runner's tasks share it): all stored, or none. */
  appendLogBatches(batches: readonly LogBatch[]): Promise<void>;
  readLogs(tiId: number, tryNumber: number, afterSeq?: number, limit?: number): Promise<LogLineRecord[]>;
  /** The seq of the try's last stored line; -1 when it has none. */
  lastLogSeq(tiId: number, tryNumber: number): Promise<number>;
}
