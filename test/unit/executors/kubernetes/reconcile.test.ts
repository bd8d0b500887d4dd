/** reconcileDecision and podFacts: what the reconciler does with a task pod, given its task instance. Table-driven. */
import { describe, expect, test } from "bun:test";
import type { V1Pod } from "@kubernetes/client-node";
import { podEndReason, podFacts, reconcileDecision, type PodFacts, type TaskInstanceFacts } from "../../../../src/executors/kubernetes";

const now = new Date("2026-01-01T00:10:00Z");
const ago = (s: number) => new Date(now.getTime() - s * 1000);
const limits = { graceMs: 60_000, pendingLimitMs: 300_000, startup: false };

const pod = (p: Partial<PodFacts> = {}): PodFacts => ({
  name: "lf-x-etl-t-7-1",
  tiId: 7,
  tryNumber: 1,
  phase: "Running",
  reason: "",
  message: "",
  deleting: false,
  createdAt: ago(30),
  finishedAt: null,
  waiting: null,
  terminated: null,
  ...p,
});
const ti = (state: TaskInstanceFacts["state"], try_number = 1, end_date: Date | null = null): TaskInstanceFacts => ({
  state,
  try_number,
  end_date,
});
const exited = (exitCode: number, reason = "Error", container = "task") => ({
  phase: "Failed",
  finishedAt: ago(1),
  terminated: { container, exitCode, reason, message: "" },
});

describe("reconcileDecision", () => {
  test.each<[string, Partial<PodFacts>, TaskInstanceFacts | null, Partial<typeof limits>, object]>([
    ["a running pod of a live try is kept", {}, ti("running"), {}, { action: "keep" }],
    ["a pending pod of a queued try is kept", { phase: "Pending" }, ti("queued"), {}, { action: "keep" }],
    ["a pod being deleted is left alone", { ...exited(1), deleting: true }, ti("running"), {}, { action: "keep" }],
    [
      "exit 2 while the try is live fails it",
      exited(2),
      ti("running"),
      {},
      {
        action: "fail",
        reason: expect.stringMatching(/container task exited with code 2 before the agent reported/),
        delete: false,
        logContainer: "task",
      },
    ],
    [
      "OOMKilled fails it with the reason",
      exited(137, "OOMKilled"),
      ti("running"),
      {},
      { action: "fail", reason: expect.stringMatching(/OOM-killed.*raise resources.memory/), delete: false, logContainer: "task" },
    ],
    [
      "evicted fails it",
      { phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." },
      ti("running"),
      {},
      {
        action: "fail",
        reason: expect.stringMatching(/was evicted: The node was low on resource: memory/),
        delete: false,
        logContainer: "task",
      },
    ],
    [
      "deadline exceeded fails it",
      { phase: "Failed", reason: "DeadlineExceeded" },
      ti("running"),
      {},
      { action: "fail", reason: expect.stringMatching(/activeDeadlineSeconds/), delete: false, logContainer: "task" },
    ],
    [
      "an init container that failed names the agent image",
      exited(127, "Error", "install-agent"),
      ti("queued"),
      {},
      {
        action: "fail",
        reason: expect.stringMatching(/init container install-agent failed.*--k8s-agent-image/),
        delete: false,
        logContainer: "install-agent",
      },
    ],
    [
      "succeeded without a report fails it",
      { phase: "Succeeded", finishedAt: ago(1), terminated: { container: "task", exitCode: 0, reason: "Completed", message: "" } },
      ti("running"),
      {},
      {
        action: "fail",
        reason: expect.stringMatching(/exited with code 0 before the agent reported/),
        delete: false,
        logContainer: "task",
      },
    ],
    [
      "image pull backoff under the limit is kept",
      { phase: "Pending", waiting: { container: "task", reason: "ImagePullBackOff", message: "" } },
      ti("queued"),
      {},
      { action: "keep" },
    ],
    [
      "image pull backoff past the limit fails and deletes",
      {
        phase: "Pending",
        createdAt: ago(301),
        waiting: { container: "task", reason: "ImagePullBackOff", message: 'Back-off pulling image "x"' },
      },
      ti("queued"),
      {},
      {
        action: "fail",
        reason: expect.stringMatching(/could not start \(ImagePullBackOff\) for more than 300s/),
        delete: true,
        logContainer: "task",
      },
    ],
    [
      "a pull that can never succeed fails at once",
      { phase: "Pending", waiting: { container: "task", reason: "ErrImageNeverPull", message: "not present" } },
      ti("queued"),
      {},
      { action: "fail", reason: expect.stringMatching(/ErrImageNeverPull/), delete: true, logContainer: "task" },
    ],
    ["a finished pod of a finished try waits for the grace", exited(1), ti("failed"), {}, { action: "keep" }],
    [
      "then is deleted",
      { ...exited(1), finishedAt: ago(61) },
      ti("failed"),
      {},
      { action: "delete", why: expect.stringMatching(/finished 60s ago/) },
    ],
    [
      "a pod of an earlier try is deleted after the grace",
      { ...exited(1), finishedAt: ago(61) },
      ti("running", 2),
      {},
      { action: "delete", why: expect.stringMatching(/moved on to try 2/) },
    ],
    ["a pod still running an ended try waits for the grace", {}, ti("failed", 1, ago(10)), {}, { action: "keep" }],
    [
      "then is deleted",
      {},
      ti("failed", 1, ago(61)),
      {},
      { action: "delete", why: expect.stringMatching(/is failed but the pod still runs/) },
    ],
    [
      "at start-up a pod of a try that is over goes at once",
      {},
      ti("success"),
      { startup: true },
      { action: "delete", why: "its task instance is success" },
    ],
    [
      "at start-up a pod without a task instance goes at once",
      {},
      null,
      { startup: true },
      { action: "delete", why: "its task instance no longer exists" },
    ],
    ["at start-up a pod of a live try is kept", {}, ti("running"), { startup: true }, { action: "keep" }],
  ])("%s", (_, p, t, l, expected) => {
    expect(reconcileDecision(pod(p), t, now, { ...limits, ...l })).toEqual(expected as never);
  });

  test("every reason names the pod", () => {
    expect(podEndReason(pod(exited(3)))).toBe(
      "pod lf-x-etl-t-7-1: container task exited with code 3 before the agent reported a final state",
    );
  });
});

describe("podFacts", () => {
  const base: V1Pod = {
    metadata: { name: "p", labels: { "leoflow.io/ti-id": "7", "leoflow.io/try-number": "2" }, creationTimestamp: ago(10) },
  };
  test("reads ids from labels, the failing container and its end", () => {
    const facts = podFacts({
      ...base,
      status: {
        phase: "Failed",
        initContainerStatuses: [
          {
            name: "install-agent",
            image: "",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: "Completed", finishedAt: ago(5) } },
          },
        ],
        containerStatuses: [
          {
            name: "task",
            image: "",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 137, reason: "OOMKilled", finishedAt: ago(2) } },
          },
        ],
      },
    });
    expect(facts).toMatchObject({
      tiId: 7,
      tryNumber: 2,
      phase: "Failed",
      finishedAt: ago(2),
      terminated: { container: "task", exitCode: 137, reason: "OOMKilled" },
      waiting: null,
    });
  });
  test("a waiting container with a reason, not PodInitializing", () => {
    const facts = podFacts({
      ...base,
      status: {
        phase: "Pending",
        initContainerStatuses: [
          {
            name: "install-agent",
            image: "",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: "ErrImagePull", message: "nope" } },
          },
        ],
        containerStatuses: [
          { name: "task", image: "", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } },
        ],
      },
    });
    expect(facts.waiting).toEqual({ container: "install-agent", reason: "ErrImagePull", message: "nope" });
  });
  test("a pod without Leoflow labels has no task instance", () => {
    expect(podFacts({ metadata: { name: "other" } }).tiId).toBeNull();
  });
});
