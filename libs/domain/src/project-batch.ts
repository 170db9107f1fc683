import type { PulseEvent } from '@pulse/contracts';
import { SESSION_ACTIVITY_RESOLUTION_MS, type Dims, type Projection, type SessionTouch, type StockLevel, type StockMovement } from './projection.js';
import { metricNamed } from './metrics.js';
import { bucketStart, GRAIN_MS, type Grain } from './time.js';
import { watermarkAt } from './watermark.js';

export interface BatchEvent {
  event: PulseEvent;
  /** Event time (`time`), parsed once by the adapter. */
  timeMs: number;
  /** When the event arrived: the stored time of the message that carries it. */
  arrivedMs: number;
}

export interface BatchInput {
  partition: number;
  /** New (already de-duplicated) events of one partition, in stream order. */
  events: readonly BatchEvent[];
  allowedLatenessMs: number;
  projections: readonly Projection[];
  /** Partial rebuilds: events before this event time are left to the copied buckets. */
  cutoffMs?: number;
}

/** A change to one bucket row: add these to what the row holds. */
export interface FactDelta {
  grain: Grain;
  bucketMs: number;
  metric: string;
  /** Canonical JSON of the dimensions ('{}' for totals); also the row's identity with bucket and metric. */
  dimKey: string;
  value: number;
  events: number;
  lateEvents: number;
  lateValue: number;
}

/**
 * Late contributions to one bucket, grouped by the partition and watermark second at which they arrived.
 * Each distinct group is one revision of the bucket: this grouping depends only on each partition's own
 * sequence, so a replay records the same revisions.
 */
export interface CorrectionDelta {
  grain: '1s' | '1m';
  bucketMs: number;
  metric: string;
  partition: number;
  watermarkMs: number;
  lateEvents: number;
  delta: number;
}

export interface TouchedBucket {
  grain: '1s' | '1m';
  metric: string;
  bucketMs: number;
}

export interface ProjectionChanges {
  projection: string;
  /** Every row is kept per partition, so partitions committing at once never wait for each other's rows. */
  partition: number;
  facts: FactDelta[];
  corrections: CorrectionDelta[];
  stockMovements: StockMovement[];
  stockLevels: StockLevel[];
  sessions: SessionTouch[];
  touched: TouchedBucket[];
}

export interface BatchResult {
  changes: ProjectionChanges[];
}


/**
 * 1s buckets keep one dimension only, the currency, so money never mixes currencies; every other
 * dimension starts at 1m. Keeping all of them per second would multiply rows for little use.
 */
function secondKey(dims: Dims | undefined): string {
  return dims?.currency ? `{"currency":${JSON.stringify(dims.currency)}}` : '{}';
}

const GRAIN_INDEX: Record<Grain, number> = { '1s': 0, '1m': 1, '1h': 2, '1d': 3 };

/** The rows of one metric and dimension key, per grain: a batch mostly hits the same bucket again, so the last one is kept at hand. */
class Series {
  private readonly last: Array<FactDelta | undefined> = [undefined, undefined, undefined, undefined];
  readonly rows = new Map<number, FactDelta>();

  constructor(
    readonly metric: string,
    readonly dimKey: string,
  ) {}

  row(grain: Grain, bucketMs: number): FactDelta {
    const index = GRAIN_INDEX[grain];
    const last = this.last[index];
    if (last !== undefined && last.bucketMs === bucketMs) return last;
    // Bucket starts are whole seconds, so the grain's index fits in the key beside the start.
    const key = bucketMs + index;
    let row = this.rows.get(key);
    if (!row) {
      row = { grain, bucketMs, metric: this.metric, dimKey: this.dimKey, value: 0, events: 0, lateEvents: 0, lateValue: 0 };
      this.rows.set(key, row);
    }
    this.last[index] = row;
    return row;
  }
}

/** A metric's grains, checked once, and its series by dimension key. */
interface MetricSeries {
  grains: readonly Grain[];
  byDims: Map<string, Series>;
}

function seriesIn(m: MetricSeries, metric: string, dimKey: string): Series {
  const series = new Series(metric, dimKey);
  m.byDims.set(dimKey, series);
  return series;
}

/** Accumulates one projection's changes over a batch; keyed maps combine contributions in memory first. */
class Accumulator {
  /** Metric → its grains and series. */
  private readonly metrics = new Map<string, MetricSeries>();
  readonly corrections = new Map<string, CorrectionDelta>();
  readonly movements = new Map<string, StockMovement>();
  readonly levels = new Map<string, StockLevel>();
  readonly sessions = new Map<string, SessionTouch>();

  // State of the event being folded, set before each contribute() call.
  timeMs = 0;
  watermarkMs = 0;
  late1s = false;
  late1m = false;

  constructor(
    readonly projection: Projection,
    private readonly partition: number,
  ) {}

  readonly emit = (metric: string, value: number, dims?: Dims): void => {
    const m = this.metrics.get(metric) ?? this.checkMetric(metric);
    const dimKey = dims ? JSON.stringify(dims) : '{}';
    const series = m.byDims.get(dimKey) ?? seriesIn(m, metric, dimKey);
    for (const grain of m.grains) {
      const bucketMs = bucketStart(this.timeMs, grain);
      // Hours and days take lateness from their minutes, as their roll-ups do.
      const late = grain === '1s' ? this.late1s : this.late1m;
      let target = series;
      if (grain === '1s' && dims) {
        const key = secondKey(dims);
        target = m.byDims.get(key) ?? seriesIn(m, metric, key);
      }
      const row = target.row(grain, bucketMs);
      row.value += value;
      row.events += 1;
      if (late) {
        row.lateEvents += 1;
        row.lateValue += value;
        if (grain === '1s' || grain === '1m') this.addCorrection(grain, bucketMs, metric, value);
      }
    }
  };

  private checkMetric(metric: string): MetricSeries {
    const definition = metricNamed(metric);
    if (!definition || definition.kind !== 'sum' || definition.projection !== this.projection.name) {
      throw new Error(`projection ${this.projection.name} emitted ${metric}, which is not one of its base metrics`);
    }
    const m = { grains: definition.grains, byDims: new Map<string, Series>() };
    this.metrics.set(metric, m);
    return m;
  }

  private addCorrection(grain: '1s' | '1m', bucketMs: number, metric: string, value: number): void {
    const watermarkMs = Math.floor(this.watermarkMs / 1000) * 1000;
    const key = `${grain}|${bucketMs}|${metric}|${watermarkMs}`;
    let row = this.corrections.get(key);
    if (!row) {
      row = { grain, bucketMs, metric, partition: this.partition, watermarkMs, lateEvents: 0, delta: 0 };
      this.corrections.set(key, row);
    }
    row.lateEvents += 1;
    row.delta += value;
  }

  readonly extras = {
    stockMovement: (m: StockMovement) => {
      const key = `${m.sku}|${m.warehouse}|${m.atMs}`;
      const row = this.movements.get(key);
      if (row) row.delta += m.delta;
      else this.movements.set(key, { ...m });
    },
    stockLevel: (l: StockLevel) => {
      const key = `${l.sku}|${l.warehouse}`;
      const current = this.levels.get(key);
      // The latest report by event time wins; on a tie, the later one in the stream.
      if (!current || l.reportedAtMs >= current.reportedAtMs) this.levels.set(key, l);
    },
    sessionTouch: (sessionId: string, atMs: number, channel?: string, country?: string) => {
      const row = this.sessions.get(sessionId);
      const step = atMs - (((atMs % SESSION_ACTIVITY_RESOLUTION_MS) + SESSION_ACTIVITY_RESOLUTION_MS) % SESSION_ACTIVITY_RESOLUTION_MS);
      if (!row) {
        this.sessions.set(sessionId, { sessionId, firstMs: atMs, lastMs: step, channel: channel ?? null, country: country ?? null });
        return;
      }
      if (atMs < row.firstMs) row.firstMs = atMs;
      if (step > row.lastMs) row.lastMs = step;
      row.channel ??= channel ?? null;
      row.country ??= country ?? null;
    },
  };

  result(): ProjectionChanges {
    const facts: FactDelta[] = [];
    const touched = new Map<string, TouchedBucket>();
    for (const m of this.metrics.values()) {
      for (const series of m.byDims.values()) {
        for (const f of series.rows.values()) {
          facts.push(f);
          if (f.grain === '1s' || f.grain === '1m') {
            const key = `${f.grain}|${f.metric}|${f.bucketMs}`;
            if (!touched.has(key)) touched.set(key, { grain: f.grain, metric: f.metric, bucketMs: f.bucketMs });
          }
        }
      }
    }
    return {
      projection: this.projection.name,
      partition: this.partition,
      facts,
      corrections: [...this.corrections.values()],
      stockMovements: [...this.movements.values()],
      stockLevels: [...this.levels.values()],
      sessions: [...this.sessions.values()],
      touched: [...touched.values()],
    };
  }
}

/**
 * The fold of every projection over one batch of one partition, fed in parts: the events of a part
 * can be dropped once it is added, so a long batch holds only its changes, never all its events.
 * Adding parts in stream order gives exactly the changes of one part holding them all.
 */
export class BatchFold {
  private readonly accumulators: Accumulator[];

  constructor(private readonly input: Omit<BatchInput, 'events'>) {
    this.accumulators = input.projections.map((p) => new Accumulator(p, input.partition));
  }

  add(events: readonly BatchEvent[]): void {
    const { allowedLatenessMs, cutoffMs } = this.input;
    for (const { event, timeMs, arrivedMs } of events) {
      const watermarkMs = watermarkAt(arrivedMs, allowedLatenessMs);
      if (cutoffMs === undefined || timeMs >= cutoffMs) {
        const late1s = bucketStart(timeMs, '1s') + GRAIN_MS['1s'] <= watermarkMs;
        const late1m = bucketStart(timeMs, '1m') + GRAIN_MS['1m'] <= watermarkMs;
        for (const acc of this.accumulators) {
          acc.timeMs = timeMs;
          acc.watermarkMs = watermarkMs;
          acc.late1s = late1s;
          acc.late1m = late1m;
          acc.projection.contribute(event, timeMs, acc.emit, acc.extras);
        }
      }
    }
  }

  result(): BatchResult {
    return { changes: this.accumulators.map((a) => a.result()) };
  }
}

/**
 * The fold of every projection over one batch of one partition: from events to the changes their
 * read models need, combined in memory so the adapter writes each changed row once per batch.
 * Deterministic: the same events, arriving when they did, give the same changes however they were batched.
 */
export function projectBatch(input: BatchInput): BatchResult {
  const fold = new BatchFold(input);
  fold.add(input.events);
  return fold.result();
}
