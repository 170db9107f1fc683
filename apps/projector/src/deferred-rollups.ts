import { METRICS, type FactDelta, type TouchedBucket } from '@pulse/domain';
import type pg from 'pg';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export const isRollup = (f: FactDelta): boolean => f.grain === '1h' || f.grain === '1d';

/** The hours (counted from the epoch) that these hourly deltas fall in. */
export function hoursOf(facts: readonly FactDelta[]): number[] {
  return [...new Set(facts.filter((f) => f.grain === '1h').map((f) => f.bucketMs / HOUR_MS))];
}

/**
 * The console reads an hour again when one of its minutes is touched: these name the hours of hourly
 * deltas (by their first minute), so that writing them late still makes it read them.
 */
export function hourTouches(facts: ReadonlyArray<Pick<FactDelta, 'grain' | 'metric' | 'bucketMs'>>): TouchedBucket[] {
  const seen = new Map<string, TouchedBucket>();
  for (const f of facts) if (f.grain === '1h') seen.set(`${f.metric}|${f.bucketMs}`, { grain: '1m', metric: f.metric, bucketMs: f.bucketMs });
  return [...seen.values()];
}

/**
 * Hourly and daily deltas a busy live partition has committed the minutes of but not written yet (plain
 * PostgreSQL only: TimescaleDB derives roll-ups itself). Under load a batch's roll-up rows are nearly the
 * same rows as the previous batch's (the same metrics, dimensions and hour), so summing them here and
 * writing them once a second saves most of those upserts.
 *
 * Exactness does not depend on this memory: each deferring batch lists its hours in its checkpoint row,
 * in its own transaction, and until a commit has written or recomputed them, `recovering` says that the
 * listed hours must be recomputed from the minutes (after a crash, a new owner, or a failed commit whose
 * outcome is unknown) before anything is deferred again.
 */
export class DeferredRollups {
  /** Read-model schema → delta key → delta. */
  private readonly held = new Map<string, Map<string, FactDelta>>();
  recovering = true;
  private writtenAtMs = -Infinity;

  constructor(private readonly maxDelayMs: number) {}

  /** Whether a batch may leave its roll-ups in memory: not while recovering, and not for longer than the delay. */
  mayDefer(nowMs: number): boolean {
    return !this.recovering && nowMs - this.writtenAtMs < this.maxDelayMs;
  }

  /** What is held for a schema (still held until `written`). */
  heldFor(schema: string): FactDelta[] {
    return [...(this.held.get(schema)?.values() ?? [])];
  }

  schemas(): string[] {
    return [...this.held.keys()];
  }

  /** After a commit that deferred these deltas. */
  hold(schema: string, facts: readonly FactDelta[]): void {
    let rows = this.held.get(schema);
    if (!rows) this.held.set(schema, (rows = new Map()));
    sumInto(rows, facts);
  }

  /** After a commit that wrote (or recomputed) everything held. */
  written(nowMs: number): void {
    this.held.clear();
    this.recovering = false;
    this.writtenAtMs = nowMs;
  }

  /** After a commit that failed or may have failed: what is held may or may not be in the store. */
  forget(): void {
    this.held.clear();
    this.recovering = true;
  }
}

/** One batch's roll-up deltas with those held for the same schema, summed per row. */
export function mergeRollups(own: readonly FactDelta[], held: readonly FactDelta[]): FactDelta[] {
  if (!held.length) return [...own];
  const rows = new Map<string, FactDelta>();
  sumInto(rows, held);
  sumInto(rows, own);
  return [...rows.values()];
}

/** Adds deltas into rows keyed as the row they change; a new row is a copy, so the caller's deltas stay as they were. */
function sumInto(rows: Map<string, FactDelta>, facts: readonly FactDelta[]): void {
  for (const f of facts) {
    const key = `${f.grain}|${f.bucketMs}|${f.metric}|${f.dimKey}`;
    const row = rows.get(key);
    if (!row) rows.set(key, { ...f });
    else {
      row.value += f.value;
      row.events += f.events;
      row.lateEvents += f.lateEvents;
      row.lateValue += f.lateValue;
    }
  }
}

/** A version's schema and the base metrics its projection keeps by the hour, so recomputes use the key's index. */
export interface RollupTarget {
  schema: string;
  projection: string;
}

function hourlyMetrics(projection: string): string[] {
  return METRICS.filter((m) => m.kind === 'sum' && m.projection === projection && m.grains.includes('1h')).map((m) => m.name);
}

/**
 * Replaces one partition's hourly rows of these hours with the sums of its minutes, then its daily rows
 * of those days with the sums of their hours. Exact whatever the hours held before: hours and days take
 * their lateness from their minutes (the fold counts them so), and minutes are written in every batch.
 * Buckets are UTC, as the domain's are. Rows are found through the key (metric, bucket, ...), one hour
 * or day at a time, so the cost is that of the hours, not of the table (90 days of minutes).
 */
export async function recomputeRollups(client: pg.ClientBase, targets: readonly RollupTarget[], partition: number, hours: readonly number[]): Promise<Map<string, TouchedBucket[]>> {
  const starts = hours.map((h) => new Date(h * HOUR_MS));
  const days = [...new Set(hours.map((h) => Math.floor((h * HOUR_MS) / DAY_MS) * DAY_MS))].map((d) => new Date(d));
  const cols = 'bucket, metric, dim_key, partition, value, events, late_events, late_value';
  const sums = 'metric, dim_key, partition, sum(value), sum(events), sum(late_events), sum(late_value)';
  const touched = new Map<string, TouchedBucket[]>();
  for (const { schema: s, projection } of targets) {
    const metrics = hourlyMetrics(projection);
    await client.query(`DELETE FROM "${s}".facts_1h WHERE metric = ANY($1::text[]) AND bucket = ANY($2::timestamptz[]) AND partition = $3`, [metrics, starts, partition]);
    const hourly = await client.query<{ metric: string; bucket: Date }>(
      `INSERT INTO "${s}".facts_1h (${cols})
       SELECT h.start, ${sums} FROM unnest($2::timestamptz[]) AS h(start)
       JOIN "${s}".facts_1m m ON m.metric = ANY($1::text[]) AND m.bucket >= h.start AND m.bucket < h.start + interval '1 hour' AND m.partition = $3
       GROUP BY h.start, metric, dim_key, partition
       RETURNING metric, bucket`,
      [metrics, starts, partition],
    );
    touched.set(s, hourTouches(hourly.rows.map((r) => ({ grain: '1h', metric: r.metric, bucketMs: r.bucket.getTime() }))));
    await client.query(`DELETE FROM "${s}".facts_1d WHERE metric = ANY($1::text[]) AND bucket = ANY($2::timestamptz[]) AND partition = $3`, [metrics, days, partition]);
    await client.query(
      `INSERT INTO "${s}".facts_1d (${cols})
       SELECT d.start, ${sums} FROM unnest($2::timestamptz[]) AS d(start)
       JOIN "${s}".facts_1h m ON m.metric = ANY($1::text[]) AND m.bucket >= d.start AND m.bucket < d.start + interval '1 day' AND m.partition = $3
       GROUP BY d.start, metric, dim_key, partition`,
      [metrics, days, partition],
    );
  }
  return touched;
}
