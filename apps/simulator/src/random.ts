/**
 * A seeded pseudo-random source (mulberry32). Every choice the traffic model makes is drawn from one
 * of these, in a fixed order, so the same seed and the same ticks give the same events, byte for byte.
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(probability: number): boolean {
    return probability > 0 && this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  /** Log-uniform in [min, max]: as many draws between 1 s and 10 s as between 10 s and 100 s. */
  logUniform(min: number, max: number): number {
    if (max <= min) return min;
    const low = Math.log(Math.max(min, 1));
    return Math.round(Math.exp(low + this.next() * (Math.log(max) - low)));
  }
}

/** A fixed distribution over a few values, drawn by cumulative weight. */
export class Weighted<T> {
  private readonly values: T[];
  private readonly cumulative: number[];

  constructor(entries: ReadonlyArray<readonly [T, number]>) {
    this.values = entries.map(([value]) => value);
    let sum = 0;
    this.cumulative = entries.map(([, weight]) => (sum += weight));
    this.cumulative = this.cumulative.map((c) => c / sum);
  }

  draw(random: Random): T {
    const r = random.next();
    const c = this.cumulative;
    // A binary search: the popularity distribution spans the whole catalogue.
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r < c[mid]) hi = mid;
      else lo = mid + 1;
    }
    return this.values[lo];
  }
}
