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
  /** Stores lines numbered firstSeq, firstSeq+1, …; lines already stored (same seq) are ignored. */
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
  /** appendLogs for many tries in one write (the inline runner's tasks share it): all stored, or none. */
  appendLogBatches(batches: readonly LogBatch[]): Promise<void>;
  readLogs(tiId: number, tryNumber: number, afterSeq?: number, limit?: number): Promise<LogLineRecord[]>;
}
