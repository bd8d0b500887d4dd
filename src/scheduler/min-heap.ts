/**
 * A binary min-heap over an array, built in O(n): the dispatch step takes the first few of thousands of
 * waiting candidates per tick (its free slots) without sorting them all.
 *
 * @example
 * const h = new MinHeap([5, 1, 3], (a, b) => a - b);
 * h.pop(); // 1
 */
export class MinHeap<T> {
  private readonly items: T[];

  /** Takes `items` over (the array is reordered in place). */
  constructor(
    items: T[],
    private readonly compare: (a: T, b: T) => number,
  ) {
    this.items = items;
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** The smallest item, removed; undefined when empty. */
  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length && last !== undefined) {
      items[0] = last;
      this.down(0);
    }
    return top;
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
