/**
 * AgentRpcStore: what the agent-facing RPC serves a running try — its task spec and context, XCom, variables
 * and connections, heartbeats, log lines and its reported state.
 */
import type { XComKey, XComRecord } from "../../domain";
import type { VariablesApiStore } from "./api-variables";
import type { RecordLookups } from "./lookups";
import type { SchedulerStore } from "./scheduler";
import type { TaskLogStore } from "./task-log";

export interface AgentRpcStore
  extends Pick<RecordLookups, "getDag" | "getDagVersion" | "getDagRunById" | "getTaskInstanceById">,
    Pick<SchedulerStore, "applyTransitions">,
    Pick<TaskLogStore, "appendLogs">,
    Pick<VariablesApiStore, "getVariable" | "getConnection"> {
  /** Records an agent heartbeat for this try if the instance is still running it; false otherwise. */
  heartbeat(tiId: number, tryNumber: number, now: Date): Promise<boolean>;
  /** Upserts one value. TooLargeError when its JSON exceeds the store's xcom size limit. */
  setXCom(key: XComKey, value: unknown, now: Date): Promise<void>;
  getXCom(key: XComKey): Promise<XComRecord | null>;
}
