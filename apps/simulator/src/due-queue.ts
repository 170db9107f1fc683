/**
 * Things that fall due at a simulated time (a payment outcome, a restock, a held-back late event),
 * smallest due time first. A binary heap: the queue can hold many thousands of entries at high rates.
 * Entries with the same due time come out in an order that depends only on the sequence of pushes
 * and pops, which is all determinism needs.
 */
export class DueQueue<T extends { due: number }> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  /** Due time of the next entry, Infinity when empty. */
  nextDue(): number {
    return this.heap.length ? this.heap[0].due : Infinity;
  }

  push(entry: T): void {
    const h = this.heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].due <= entry.due) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = entry;
  }

  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= h.length) break;
      const right = left + 1;
      const child = right < h.length && h[right].due < h[left].due ? right : left;
      if (h[child].due >= last.due) break;
      h[i] = h[child];
      i = child;
    }
    h[i] = last;
    return top;
  }

  /** Removes and returns every entry, in due order. */
  drain(): T[] {
    const out: T[] = [];
    for (let e = this.pop(); e !== undefined; e = this.pop()) out.push(e);
    return out;
  }
}
