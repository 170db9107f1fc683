import { Ledger } from './ledger.js';
import type { Emission, TrafficModel } from './traffic-model.js';

/** What the receiver said about one batch. */
export interface Delivery {
  /** Positions in the batch the receiver refused (and kept as dead letters). */
  rejected: readonly number[];
  /** Attempts beyond the first (429/503, a lost connection). */
  retries: number;
}

/** A way into Pulse: the producer SDK or the HTTP ingestion endpoint. Resolves once the batch is stored. */
export interface Transport {
  deliver(batch: readonly Emission[]): Promise<Delivery>;
}

export interface DriverOptions {
  model: TrafficModel;
  transport: Transport;
  /** Target events per second (valid, duplicate and malformed together). */
  rate: number;
  /** Events per publish or request. */
  batchSize?: number;
  /** Batches awaiting acknowledgement at once. */
  maxInFlight?: number;
  /** How often the model is ticked, wall-clock ms. */
  tickMs?: number;
  /** Stop after this many emissions (the late events flushed at the end come on top). */
  maxEvents?: number;
  /** Stop after this long, wall-clock ms. */
  durationMs?: number;
  /** Deliver the late events still held back when stopping, so the run ends complete. Default true. */
  flushLateOnStop?: boolean;
  /** Wall clock, epoch ms; it is also the simulated time handed to the model. */
  clock?: () => number;
}

export interface DriverStats {
  elapsedMs: number;
  targetRate: number;
  /** Emissions taken from the model. */
  generated: number;
  /** Events the receiver acknowledged, accepted or rejected. */
  sent: number;
  accepted: number;
  rejected: number;
  /** Duplicate emissions accepted (stored again; read models must count them once). */
  duplicates: number;
  /** Late emissions accepted. */
  late: number;
  /** Valid events refused, or malformed ones accepted: the model and the contracts disagree. */
  unexpected: number;
  /** Events of batches that could not be delivered at all. */
  failed: number;
  errors: number;
  lastError?: string;
  requests: number;
  retries: number;
  /** Events sent and not yet acknowledged. */
  inFlight: number;
  /** Late events the model still holds back. */
  heldBack: number;
  /** Events acknowledged per second since the start. */
  rate: number;
}

/**
 * Runs a traffic model in real time at a target rate, delivers its emissions in batches with a
 * bounded number in flight, and keeps a ledger of exactly what the receiver accepted: the expected
 * totals to check the read models against.
 */
export class TrafficDriver {
  readonly ledger = new Ledger();
  /** Resolves when the driver has stopped (by `stop()` or a limit) and every batch is acknowledged. */
  readonly finished: Promise<DriverStats>;

  private readonly model: TrafficModel;
  private readonly transport: Transport;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly tickMs: number;
  private readonly maxEvents: number;
  private readonly durationMs: number;
  private readonly clock: () => number;
  private flushLate: boolean;
  private rate: number;

  private running = false;
  private started = false;
  private startedAt = NaN;
  private endedAt = NaN;
  private lastTickAt = NaN;
  private owed = 0;
  private wake: () => void = () => undefined;
  private resolveFinished: (stats: DriverStats) => void = () => undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counters = { generated: 0, sent: 0, accepted: 0, rejected: 0, duplicates: 0, late: 0, unexpected: 0, failed: 0, errors: 0, requests: 0, retries: 0, inFlight: 0 };
  private lastError: string | undefined;

  constructor(options: DriverOptions) {
    this.model = options.model;
    this.transport = options.transport;
    this.rate = TrafficDriver.checkedRate(options.rate);
    this.batchSize = options.batchSize ?? 500;
    this.maxInFlight = options.maxInFlight ?? 8;
    this.tickMs = options.tickMs ?? 100;
    this.maxEvents = options.maxEvents ?? Infinity;
    this.durationMs = options.durationMs ?? Infinity;
    this.flushLate = options.flushLateOnStop ?? true;
    this.clock = options.clock ?? Date.now;
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 1)) throw new Error(`batchSize must be a positive integer, got ${this.batchSize}`);
    if (!(Number.isInteger(this.maxInFlight) && this.maxInFlight >= 1)) throw new Error(`maxInFlight must be a positive integer, got ${this.maxInFlight}`);
    if (!(this.tickMs >= 1)) throw new Error(`tickMs must be at least 1, got ${this.tickMs}`);
    this.finished = new Promise((resolve) => (this.resolveFinished = resolve));
  }

  private static checkedRate(rate: number): number {
    if (!(Number.isFinite(rate) && rate >= 0)) throw new Error(`rate must be a number of events per second >= 0, got ${rate}`);
    return rate;
  }

  start(): void {
    if (this.started) throw new Error('the driver runs once; create another for another run');
    this.started = true;
    this.running = true;
    this.startedAt = this.lastTickAt = this.clock();
    void this.run().then(this.resolveFinished);
  }

  /** Changes the target rate from the next tick on. */
  setRate(eventsPerSecond: number): void {
    this.rate = TrafficDriver.checkedRate(eventsPerSecond);
  }

  /** Stops generating, delivers the held-back late events unless told not to, and waits for every acknowledgement. */
  stop(options: { flushLate?: boolean } = {}): Promise<DriverStats> {
    if (options.flushLate !== undefined) this.flushLate = options.flushLate;
    if (!this.started) {
      this.started = true;
      this.resolveFinished(this.stats());
    }
    this.running = false;
    this.wake();
    return this.finished;
  }

  stats(): DriverStats {
    const c = this.counters;
    const end = Number.isNaN(this.endedAt) ? this.clock() : this.endedAt;
    const elapsedMs = Number.isNaN(this.startedAt) ? 0 : end - this.startedAt;
    return { ...c, elapsedMs, targetRate: this.rate, lastError: this.lastError, heldBack: this.model.heldBack, rate: elapsedMs > 0 ? (c.sent * 1000) / elapsedMs : 0 };
  }

  private async run(): Promise<DriverStats> {
    while (this.running) {
      const now = this.clock();
      // After a stall (a slow receiver, a GC pause) catch up by at most a second's worth, not in one burst.
      this.owed = Math.min(this.owed + ((now - this.lastTickAt) * this.rate) / 1000, Math.max(this.rate, 1));
      this.lastTickAt = now;
      const count = Math.min(Math.floor(this.owed), this.maxEvents - this.counters.generated);
      if (count > 0) {
        this.owed -= count;
        this.counters.generated += count;
        await this.send(this.model.tick(now, count));
      }
      if (this.counters.generated >= this.maxEvents || now - this.startedAt >= this.durationMs) break;
      const wait = this.tickMs - (this.clock() - now);
      if (wait > 0 && this.running) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.running = false;
    if (this.flushLate) {
      const rest = this.model.flush();
      this.counters.generated += rest.length;
      await this.send(rest);
    }
    await Promise.all(this.inFlight);
    this.endedAt = this.clock();
    return this.stats();
  }

  private async send(emissions: readonly Emission[]): Promise<void> {
    for (let i = 0; i < emissions.length; i += this.batchSize) {
      while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
      const delivery: Promise<void> = this.deliver(emissions.slice(i, i + this.batchSize)).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  /** Never rejects: a failed batch is counted and reported in the stats, and the run goes on. */
  private async deliver(batch: readonly Emission[]): Promise<void> {
    const c = this.counters;
    c.inFlight += batch.length;
    try {
      const { rejected, retries } = await this.transport.deliver(batch);
      c.requests += 1;
      c.retries += retries;
      c.sent += batch.length;
      const refused = new Set(rejected);
      for (let i = 0; i < batch.length; i++) {
        const e = batch[i];
        if (refused.has(i)) {
          c.rejected += 1;
          if (e.kind !== 'malformed') c.unexpected += 1;
          continue;
        }
        c.accepted += 1;
        if (e.kind === 'malformed') {
          c.unexpected += 1;
          continue;
        }
        if (e.kind === 'duplicate') c.duplicates += 1;
        else if (e.late) c.late += 1;
        this.ledger.add(e.event);
      }
    } catch (error) {
      c.errors += 1;
      c.failed += batch.length;
      this.lastError = error instanceof Error ? error.message : String(error);
    } finally {
      c.inFlight -= batch.length;
    }
  }
}
