/** TaskLogStore: the lines of each try's log, written by agents and the dispatcher, read by the API. */
import type { LogLineRecord } from "../../domain";

export interface TaskLogStore {
  /** Stores lines numbered firstSeq, firstSeq+1, …; lines already stored (same seq) are ignored. */
  appendLogs(tiId: number, tryNumber: number, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<void>;
  readLogs(tiId: number, tryNumber: number, afterSeq?: number, limit?: number): Promise<LogLineRecord[]>;
}
