import { Problem } from '../http/problem.js';

/**
 * Token bucket per producer: `perSecond` events sustained, `burst` at once. Kept in each API
 * instance's memory: with N instances behind a balancer a producer gets up to N times the rate, which
 * the configured rate accounts for (documented in the README).
 */
export class IngestRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly rate: { perSecond: number; burst: number }) {}

  /** Takes `events` from the producer's bucket or throws 429 saying when to retry. */
  take(producer: string, events: number, nowMs: number): void {
    const b = this.buckets.get(producer) ?? { tokens: this.rate.burst, at: nowMs };
    b.tokens = Math.min(this.rate.burst, b.tokens + ((nowMs - b.at) / 1000) * this.rate.perSecond);
    b.at = nowMs;
    if (events > b.tokens) {
      this.buckets.set(producer, b);
      const wait = Math.max(1, Math.ceil((events - b.tokens) / this.rate.perSecond));
      throw new Problem(429, 'rate_limited', `producer "${producer}" sent more than ${this.rate.perSecond} events/s (burst ${this.rate.burst}); retry after ${wait} s`, { retryAfterSeconds: wait }, { 'Retry-After': String(wait) });
    }
    b.tokens -= events;
    this.buckets.set(producer, b);
  }
}
