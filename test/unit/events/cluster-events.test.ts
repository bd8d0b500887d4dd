/** The cluster's own events on the stream (scheduler.leader_changed): every team's, never a DAG's or a run's. */
import { expect, test } from "bun:test";
import { formatSse, matchesEventFilter, type LeoflowEvent } from "../../../src/events";

const leaderChanged: LeoflowEvent = {
  id: 7,
  time: "2026-01-01T00:00:00.000Z",
  type: "scheduler.leader_changed",
  leader: "vm-2 pid 4242 http://10.0.0.7:8080",
};

test.each([
  [{}, true],
  [{ team: "default" }, true],
  [{ team: "analytics" }, true],
  [{ types: ["scheduler.leader_changed"] }, true],
  [{ types: ["scheduler."] }, true],
  [{ team: "analytics", types: ["dag_run."] }, false],
  [{ dag_id: "etl" }, false],
  [{ run_id: "r1" }, false],
])("scheduler.leader_changed, filter %j → %p", (f, ok) => expect(matchesEventFilter(leaderChanged, f)).toBe(ok));

test("a team's event still reaches its own team's stream only", () => {
  const e: LeoflowEvent = { id: 1, time: "t", type: "dag_run.created", team: "default", dag_id: "etl", run_id: "r1", state: "queued" };
  expect([matchesEventFilter(e, { team: "default" }), matchesEventFilter(e, { team: "analytics" })]).toEqual([true, false]);
});

test("its message names the leader as the webhook does", () => {
  expect(formatSse(leaderChanged)).toBe(
    'id: 7\nevent: scheduler.leader_changed\ndata: {"id":7,"time":"2026-01-01T00:00:00.000Z","type":"scheduler.leader_changed","leader":"vm-2 pid 4242 http://10.0.0.7:8080"}\n\n',
  );
});
