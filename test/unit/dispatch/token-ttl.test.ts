import { expect, test } from "bun:test";
import { agentTokenLifetime, tokenGraceSeconds } from "../../../src/dispatch/token-ttl";

const policy = { ceilingSeconds: 3600, queueWaitSeconds: 300, graceSeconds: 120 };

test("a task with an execution_timeout: queue wait + timeout + grace, never renewed", () => {
  expect(agentTokenLifetime(600, policy)).toEqual({ ttlSeconds: 1020, renewable: false });
  expect(agentTokenLifetime(0.5, policy)).toEqual({ ttlSeconds: 421, renewable: false });
});

test("a timeout longer than the ceiling still gets its whole run", () => {
  expect(agentTokenLifetime(3 * 86400, policy)).toEqual({ ttlSeconds: 3 * 86400 + 420, renewable: false });
});

test("no execution_timeout: the ceiling, renewed on heartbeat", () => {
  expect(agentTokenLifetime(undefined, policy)).toEqual({ ttlSeconds: 3600, renewable: true });
  expect(agentTokenLifetime(0, policy)).toEqual({ ttlSeconds: 3600, renewable: true });
});

test("the grace covers the reaper's tolerated silence plus a minute to stop, flush and report", () => {
  expect(tokenGraceSeconds(60)).toBe(120);
  expect(tokenGraceSeconds(0.5)).toBe(61);
});
