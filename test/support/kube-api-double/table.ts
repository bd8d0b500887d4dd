/**
 * The pod columns `kubectl get pods` prints, computed server-side as the real API server does for Table
 * requests: NAME, READY, STATUS (the phase, or the reason a container waits or ended), RESTARTS, AGE.
 */
import type { KubeObject } from "./object-store";

export const POD_COLUMNS = [
  { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
  {
    name: "Ready",
    type: "string",
    format: "",
    description: "The aggregate readiness state of this pod for accepting traffic.",
    priority: 0,
  },
  { name: "Status", type: "string", format: "", description: "The aggregate status of the containers in this pod.", priority: 0 },
  {
    name: "Restarts",
    type: "string",
    format: "",
    description: "The number of times the containers in this pod have been restarted.",
    priority: 0,
  },
  {
    name: "Age",
    type: "string",
    format: "",
    description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
    priority: 0,
  },
];

export function podTableRow(pod: KubeObject, now: Date): string[] {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  const total = pod.spec?.containers?.length ?? 0;
  const ready = statuses.filter((s) => s.ready).length;
  return [
    pod.metadata.name,
    `${ready}/${total}`,
    podStatusText(pod),
    String(statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0)),
    age(pod.metadata.creationTimestamp, now),
  ];
}

function podStatusText(pod: KubeObject): string {
  if (pod.metadata.deletionTimestamp) return "Terminating";
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? "Pending";
  const inits: any[] = pod.status?.initContainerStatuses ?? [];
  for (const [i, s] of inits.entries()) {
    if (s.state?.terminated?.exitCode === 0) continue;
    if (s.state?.terminated)
      return s.state.terminated.reason ? `Init:${s.state.terminated.reason}` : `Init:ExitCode:${s.state.terminated.exitCode}`;
    if (s.state?.waiting?.reason && s.state.waiting.reason !== "PodInitializing") return `Init:${s.state.waiting.reason}`;
    return `Init:${i}/${pod.spec?.initContainers?.length ?? 0}`;
  }
  for (const s of pod.status?.containerStatuses ?? []) {
    if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
    else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
  }
  return reason;
}

/** kubectl's AGE: seconds under 2 minutes, then minutes, hours, days. */
export function age(created: string, now: Date): string {
  const s = Math.max(0, Math.floor((now.getTime() - Date.parse(created)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}
