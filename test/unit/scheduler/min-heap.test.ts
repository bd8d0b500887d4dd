import { describe, expect, test } from "bun:test";
import { MinHeap } from "../../../src/scheduler/min-heap";
import { seededRandom } from "../../support/seeded-random";

const byNumber = (a: number, b: number) => a - b;

describe("MinHeap", () => {
  test("pops every item smallest first, the first pop by a scan and the rest from the heap", () => {
    const random = seededRandom(7);
    for (let round = 0; round < 200; round++) {
      const items = Array.from({ length: random.int(60) }, () => random.int(40));
      const heap = new MinHeap([...items], byNumber);
      const popped: number[] = [];
      while (heap.size) popped.push(heap.pop()!);
      expect(popped).toEqual([...items].sort(byNumber));
      expect(heap.pop()).toBeUndefined();
    }
  });

  test("peek answers what the next pop takes, before and after the first pop", () => {
    const heap = new MinHeap([4, 9, 1, 7, 1, 3], byNumber);
    expect(heap.peek()).toBe(1);
    expect(heap.pop()).toBe(1);
    expect(heap.peek()).toBe(1);
    expect(heap.pop()).toBe(1);
    const fresh = new MinHeap([4, 9, 2], byNumber);
    expect(fresh.pop()).toBe(2);
    expect(fresh.peek()).toBe(4);
    expect([fresh.pop(), fresh.pop(), fresh.pop()]).toEqual([4, 9, undefined]);
  });

  test("an empty heap pops and peeks nothing", () => {
    const heap = new MinHeap<number>([], byNumber);
    expect(heap.size).toBe(0);
    expect(heap.pop()).toBeUndefined();
    expect(heap.peek()).toBeUndefined();
  });
});
