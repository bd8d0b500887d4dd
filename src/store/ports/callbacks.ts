/**
 * CallbackStore: what the callback runner keeps across restarts and leaders: how far it has read the event
 * log, and which runs' deadline alerts have fired.
 */
export interface CallbackStore {
  /** The last event id the named reader handled; null before it ever saved one. */
  getCallbackCursor(name: string): Promise<number | null>;
  /** Saves the named reader's position (never moves it back: a late write from a stale leader is ignored). */
  saveCallbackCursor(name: string, lastEventId: number, now: Date): Promise<void>;
  /** Records that the run's deadline alert fires; true for the one call that recorded it, false ever after. */
  claimDeadlineAlert(dagRunId: number, now: Date): Promise<boolean>;
}
