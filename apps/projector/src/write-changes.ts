import type pg from 'pg';
import { GRAINS, type FactDelta, type Grain, type ProjectionChanges } from '@pulse/domain';
import { pgArray } from './pg-array.js';
import { prepared } from './prepared.js';

/**
 * Everything a batch writes, as one statement: one writable CTE per table and version, `unnest()`ed
 * arrays for rows, then a final SELECT. One round trip per batch, whatever the batch size and however
 * many projections it touches: on a machine where each round trip wakes two processes, the six or so
 * saved per batch are worth more than the statement's larger plan, which a connection makes once per
 * shape (`prepared`).
 *
 * Rows carry their partition, so concurrent partitions never update the same row; within a statement
 * they are still sorted by key, which keeps lock order stable where a rebuild writes several partitions.
 */
export class BatchWrite {
  private readonly parts: string[] = [];
  private readonly values: unknown[] = [];

  /** A parameter holding an array (as one literal, see pgArray). */
  array(value: ReadonlyArray<string | number | null>, type: string): string {
    return this.scalar(pgArray(value), type);
  }

  scalar(value: string | number | null, type: string): string {
    this.values.push(value);
    return `$${this.values.length}::${type}`;
  }

  /** A data-modifying statement, run once as a CTE of the final statement. */
  add(sql: string): void {
    this.parts.push(sql);
  }

  /** Runs the parts and then `final` (a SELECT), in one round trip. */
  async run<R extends pg.QueryResultRow>(client: pg.ClientBase, final: string): Promise<R[]> {
    const sql = this.parts.length ? `WITH ${this.parts.map((p, i) => `w${i} AS (${p})`).join(',\n')}\n${final}` : final;
    return (await prepared<R>(client, sql, this.values)).rows;
  }

  /** The writes of one batch's changes to one version of a projection. */
  addChanges(schema: string, changes: ProjectionChanges, options: { rollups: boolean }): void {
    const param = (value: ReadonlyArray<string | number | null>, type: string) => this.array(value, type);
    const q = (name: string) => `"${schema}".${name}`;
    const partition = Number(changes.partition);

    // Tables in a fixed order too, for the same reason as the rows.
    const byGrain = new Map<Grain, FactDelta[]>(GRAINS.map((g) => [g, []]));
    for (const f of changes.facts) byGrain.get(f.grain)?.push(f);
    for (const [grain, rows] of byGrain) {
      if (!rows.length || (!options.rollups && (grain === '1h' || grain === '1d'))) continue;
      rows.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.bucketMs - b.bucketMs || (a.dimKey < b.dimKey ? -1 : a.dimKey > b.dimKey ? 1 : 0)));
      this.add(`INSERT INTO ${q(`facts_${grain}`)} AS f (bucket, metric, dim_key, partition, value, events, late_events, late_value)
        SELECT to_timestamp(b::float8 / 1000), m, d, ${partition}, v, e, le, lv
        FROM unnest(${param(rows.map((r) => r.bucketMs), 'bigint[]')}, ${param(rows.map((r) => r.metric), 'text[]')}, ${param(rows.map((r) => r.dimKey), 'text[]')},
                    ${param(rows.map((r) => r.value), 'bigint[]')}, ${param(rows.map((r) => r.events), 'bigint[]')}, ${param(rows.map((r) => r.lateEvents), 'bigint[]')},
                    ${param(rows.map((r) => r.lateValue), 'bigint[]')}) AS u(b, m, d, v, e, le, lv)
        ON CONFLICT (metric, bucket, dim_key, partition) DO UPDATE SET value = f.value + excluded.value, events = f.events + excluded.events,
          late_events = f.late_events + excluded.late_events, late_value = f.late_value + excluded.late_value`);
    }

    if (changes.corrections.length) {
      const rows = [...changes.corrections].sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.grain.localeCompare(b.grain) || a.bucketMs - b.bucketMs || a.partition - b.partition || a.watermarkMs - b.watermarkMs));
      this.add(`INSERT INTO ${q('corrections')} AS c (metric, grain, bucket, partition, watermark, late_events, delta)
        SELECT m, g, to_timestamp(b::float8 / 1000), p, to_timestamp(w::float8 / 1000), le, dl
        FROM unnest(${param(rows.map((r) => r.metric), 'text[]')}, ${param(rows.map((r) => r.grain), 'text[]')}, ${param(rows.map((r) => r.bucketMs), 'bigint[]')},
                    ${param(rows.map((r) => r.partition), 'int[]')}, ${param(rows.map((r) => r.watermarkMs), 'bigint[]')}, ${param(rows.map((r) => r.lateEvents), 'bigint[]')},
                    ${param(rows.map((r) => r.delta), 'bigint[]')}) AS u(m, g, b, p, w, le, dl)
        ON CONFLICT (metric, grain, bucket, partition, watermark) DO UPDATE SET late_events = c.late_events + excluded.late_events,
          delta = c.delta + excluded.delta, last_recorded_at = now()`);
    }

    if (changes.stockLevels.length) {
      const rows = [...changes.stockLevels].sort((a, b) => a.sku.localeCompare(b.sku) || a.warehouse.localeCompare(b.warehouse));
      this.add(`INSERT INTO ${q('stock_levels')} AS s (sku, warehouse, partition, reported_at, available, reorder_point)
        SELECT k, w, ${partition}, to_timestamp(t::float8 / 1000), a, r
        FROM unnest(${param(rows.map((r) => r.sku), 'text[]')}, ${param(rows.map((r) => r.warehouse), 'text[]')}, ${param(rows.map((r) => r.reportedAtMs), 'bigint[]')},
                    ${param(rows.map((r) => r.available), 'bigint[]')}, ${param(rows.map((r) => r.reorderPoint), 'bigint[]')}) AS u(k, w, t, a, r)
        ON CONFLICT (sku, warehouse, partition) DO UPDATE SET reported_at = excluded.reported_at, available = excluded.available, reorder_point = excluded.reorder_point
        WHERE excluded.reported_at >= s.reported_at`);
    }

    if (changes.stockMovements.length) {
      const rows = [...changes.stockMovements].sort((a, b) => a.sku.localeCompare(b.sku) || a.warehouse.localeCompare(b.warehouse) || a.atMs - b.atMs);
      this.add(`INSERT INTO ${q('stock_movements')} AS s (sku, warehouse, at, partition, delta)
        SELECT k, w, to_timestamp(t::float8 / 1000), ${partition}, d
        FROM unnest(${param(rows.map((r) => r.sku), 'text[]')}, ${param(rows.map((r) => r.warehouse), 'text[]')}, ${param(rows.map((r) => r.atMs), 'bigint[]')},
                    ${param(rows.map((r) => r.delta), 'bigint[]')}) AS u(k, w, t, d)
        ON CONFLICT (sku, warehouse, at, partition) DO UPDATE SET delta = s.delta + excluded.delta`);
    }

    if (changes.sessions.length) {
      const rows = [...changes.sessions].sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
      this.add(`INSERT INTO ${q('sessions')} AS s (session_id, partition, first_seen, last_seen, channel, country)
        SELECT i, ${partition}, to_timestamp(f::float8 / 1000), to_timestamp(l::float8 / 1000), c, n
        FROM unnest(${param(rows.map((r) => r.sessionId), 'text[]')}, ${param(rows.map((r) => r.firstMs), 'bigint[]')}, ${param(rows.map((r) => r.lastMs), 'bigint[]')},
                    ${param(rows.map((r) => r.channel), 'text[]')}, ${param(rows.map((r) => r.country), 'text[]')}) AS u(i, f, l, c, n)
        ON CONFLICT (session_id, partition) DO UPDATE SET first_seen = least(s.first_seen, excluded.first_seen), last_seen = greatest(s.last_seen, excluded.last_seen),
          channel = coalesce(s.channel, excluded.channel), country = coalesce(s.country, excluded.country)
        -- Most touches change nothing (last_seen moves in 15 s steps): skip those rewrites.
        WHERE excluded.last_seen > s.last_seen OR excluded.first_seen < s.first_seen
          OR (s.channel IS NULL AND excluded.channel IS NOT NULL) OR (s.country IS NULL AND excluded.country IS NOT NULL)`);
    }
  }
}
