/**
 * AgentRpcStore: what the agent-facing RPC serves a running try — its task spec and context, XCom, variables
 * and connections, heartbeats, log lines and its reported state.
 */
import type { XComKey, XComRecord } from "../../domain";
import type { VariablesApiStore } from "./api-variables";
import type { RecordLookups } from "./lookups";
import type { SchedulerStore } from "./scheduler";
import type { TaskLogStore } from "./task-log";
import type { MappingStore } from "./mapping";
import type { SensorStore } from "./sensors";

export interface AgentRpcStore
  extends Pick<RecordLookups, "getDag" | "getDagVersion" | "getDagRunById" | "getTaskInstanceById">,
    Pick<SchedulerStore, "applyTransitions">,
    Pick<TaskLogStore, "appendLogs">,
    Pick<MappingStore, "listMappedXComs">,
    Pick<SensorStore, "getSensorProgress" | "recordReschedule">,
    Pick<VariablesApiStore, "getVariable" | "getConnection"> {
  /** Records an agent heartbeat for this try if the instance is still running it; false otherwise. */
  heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean>;
  /** Upserts one value. TooLargeError when its JSON exceeds the store's xcom size limit. */
  setXCom(key: XComKey, value: unknown, now: Date): Promise<void>;
  /**
   * setXCom for many values in one write (the inline runner's tasks share it). Per value: null when stored,
   * else the error refusing it (TooLargeError, ValidationError), which stores nothing for that value only;
   * the same key twice keeps the last. Throws when the write itself fails (then nothing was stored).
   */
  setXComs(items: readonly { key: XComKey; value: unknown }[], now: Date): Promise<(Error | null)[]>;
  getXCom(key: XComKey): Promise<XComRecord | null>;
}
