/**
 * Store contract for the callback runner's state: its event-log cursor survives and never moves back, and a
 * run's deadline alert is claimed once. Beside it, the scheduler leader's shared heartbeat, and the fingerprint of the
 * token signing secret a Pro deployment's replicas share.
 */
import { describe, expect, test } from "bun:test";
import type { Store } from "../../src/store";
import { T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);

export function callbacksContract(getStore: () => Store): void {
  describe("callback runner state", () => {
    test("a cursor reads null until saved, then the newest id saved; an older id does not move it back", async () => {
      const store = getStore();
      expect(await store.getCallbackCursor("callbacks")).toBeNull();
      await store.saveCallbackCursor("callbacks", 41, at(1));
      await store.saveCallbackCursor("callbacks", 57, at(2));
      await store.saveCallbackCursor("callbacks", 50, at(3));
      expect(await store.getCallbackCursor("callbacks")).toBe(57);
      expect(await store.getCallbackCursor("other")).toBeNull();
    });

    test("a deadline alert is claimed by the first call only", async () => {
      const store = getStore();
      expect(await store.claimDeadlineAlert(7, at(1))).toBe(true);
      expect(await store.claimDeadlineAlert(7, at(2))).toBe(false);
      expect(await store.claimDeadlineAlert(8, at(2))).toBe(true);
    });

    test("the scheduler leader's heartbeat: null until recorded, then the latest; a stale leader's older beat is ignored", async () => {
      const store = getStore();
      expect(await store.latestSchedulerHeartbeat()).toBeNull();
      await store.recordSchedulerHeartbeat("vm-1 pid 10 http://a:8080", at(5));
      await store.recordSchedulerHeartbeat("vm-2 pid 20 http://b:8080", at(9));
      await store.recordSchedulerHeartbeat("vm-1 pid 10 http://a:8080", at(7));
      expect(await store.latestSchedulerHeartbeat()).toEqual({ replica: "vm-2 pid 20 http://b:8080", at: at(9) });
    });

    test("the signing secret's fingerprint: the first record wins; a change applies only over the fingerprint it expects", async () => {
      const store = getStore();
      expect(await store.signingFingerprint()).toBeNull();
      expect(await store.recordSigningFingerprint("aaa", null, "vm-1 pid 10", at(1))).toBe(true);
      // A second replica's first record (the same start, another secret) loses: it must read and decide again.
      expect(await store.recordSigningFingerprint("bbb", null, "vm-2 pid 20", at(2))).toBe(false);
      expect(await store.signingFingerprint()).toEqual({ fingerprint: "aaa", replica: "vm-1 pid 10", at: at(1) });
      // A rotation moves it on from the one it expects, once.
      expect(await store.recordSigningFingerprint("ccc", "bbb", "vm-2 pid 20", at(3))).toBe(false);
      expect(await store.recordSigningFingerprint("ccc", "aaa", "vm-2 pid 20", at(3))).toBe(true);
      expect(await store.recordSigningFingerprint("ccc", "aaa", "vm-3 pid 30", at(4))).toBe(false);
      expect(await store.signingFingerprint()).toEqual({ fingerprint: "ccc", replica: "vm-2 pid 20", at: at(3) });
    });
  });
}
