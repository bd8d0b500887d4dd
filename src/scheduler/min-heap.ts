/**
 * A binary min-heap over an array, built in O(n): the dispatch step takes the first few of thousands of
 * waiting candidates per tick (its free slots) without sorting them all. Built at the second pop: the first is
 * a scan for the smallest (n - 1 comparisons against heapifying's ~2n and its moves), as a tick that frees one
 * slot of a full pool takes one candidate of thousands and orders none of the rest.
 *
 * @example
 * const h = new MinHeap([5, 1, 3], (a, b) => a - b);
 * h.pop(); // 1
 */
export class MinHeap<T> {
  private readonly items: T[];
  /** Whether the items are in heap order; until the second pop they are as given (less the first pop's). */
  private heap = false;
  private popped = false;

  /** Takes `items` over (the array is reordered in place). */
  constructor(
    items: T[],
    private readonly compare: (a: T, b: T) => number,
  ) {
    this.items = items;
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    this.heapify();
    return this.items[0];
  }

  /** The smallest item, removed; undefined when empty. */
  pop(): T | undefined {
    if (!this.heap && !this.popped) {
      this.popped = true;
      return this.popSmallest();
    }
    this.heapify();
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
  }

  /** The smallest item by a scan, removed: the last item takes its place (the order is not a heap's yet). */
  private popSmallest(): T | undefined {
    const items = this.items;
    if (!items.length) return undefined;
    let at = 0;
    for (let i = 1; i < items.length; i++) if (this.compare(items[i] as T, items[at] as T) < 0) at = i;
    const smallest = items[at] as T;
    const last = items.pop() as T;
    if (at < items.length) items[at] = last;
    return smallest;
  }

  private heapify(): void {
    if (this.heap) return;
    this.heap = true;
    const items = this.items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i] as T;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.compare(items[r] as T, items[l] as T) < 0 ? r : l;
      if (this.compare(items[c] as T, item) >= 0) break;
      items[i] = items[c] as T;
      i = c;
    }
    items[i] = item;
  }
}
