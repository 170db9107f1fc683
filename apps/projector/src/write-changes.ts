import type pg from 'pg';
import { GRAINS, type FactDelta, type Grain, type ProjectionChanges } from '@pulse/domain';
import { pgArray } from './pg-array.js';
import { prepared } from './prepared.js';

/**
 * Applies one batch's changes to one version of a projection in a single statement: one writable CTE
 * per table, unnest()ed arrays for rows. One round trip per projection per batch, whatever the batch size.
 *
 * Rows carry their partition, so concurrent partitions never update the same row; within a statement
 * they are still sorted by key, which keeps lock order stable where a rebuild writes several partitions.
 */
export async function writeChanges(client: pg.ClientBase, schema: string, changes: ProjectionChanges, options: { rollups: boolean }): Promise<void> {
  const parts: string[] = [];
  const values: unknown[] = [];
  const param = (value: ReadonlyArray<string | number | null>, type: string) => {
    values.push(pgArray(value));
    return `$${values.length}::${type}`;
  };
  const q = (name: string) => `"${schema}".${name}`;
  const partition = Number(changes.partition);

  // Tables in a fixed order too, for the same reason as the rows.
  const byGrain = new Map<Grain, FactDelta[]>(GRAINS.map((g) => [g, []]));
  for (const f of changes.facts) byGrain.get(f.grain)?.push(f);
  for (const [grain, rows] of byGrain) {
    if (!rows.length || (!options.rollups && (grain === '1h' || grain === '1d'))) continue;
    rows.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.bucketMs - b.bucketMs || (a.dimKey < b.dimKey ? -1 : a.dimKey > b.dimKey ? 1 : 0)));
    parts.push(`INSERT INTO ${q(`facts_${grain}`)} AS f (bucket, metric, dim_key, partition, value, events, late_events, late_value)
      SELECT to_timestamp(b / 1000.0), m, d, ${partition}, v, e, le, lv
      FROM unnest(${param(rows.map((r) => r.bucketMs), 'bigint[]')}, ${param(rows.map((r) => r.metric), 'text[]')}, ${param(rows.map((r) => r.dimKey), 'text[]')},
                  ${param(rows.map((r) => r.value), 'bigint[]')}, ${param(rows.map((r) => r.events), 'bigint[]')}, ${param(rows.map((r) => r.lateEvents), 'bigint[]')},
                  ${param(rows.map((r) => r.lateValue), 'bigint[]')}) AS u(b, m, d, v, e, le, lv)
      ON CONFLICT (metric, bucket, dim_key, partition) DO UPDATE SET value = f.value + excluded.value, events = f.events + excluded.events,
        late_events = f.late_events + excluded.late_events, late_value = f.late_value + excluded.late_value`);
  }

  if (changes.corrections.length) {
    const rows = [...changes.corrections].sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.grain.localeCompare(b.grain) || a.bucketMs - b.bucketMs || a.partition - b.partition || a.watermarkMs - b.watermarkMs));
    parts.push(`INSERT INTO ${q('corrections')} AS c (metric, grain, bucket, partition, watermark, late_events, delta)
      SELECT m, g, to_timestamp(b / 1000.0), p, to_timestamp(w / 1000.0), le, dl
      FROM unnest(${param(rows.map((r) => r.metric), 'text[]')}, ${param(rows.map((r) => r.grain), 'text[]')}, ${param(rows.map((r) => r.bucketMs), 'bigint[]')},
                  ${param(rows.map((r) => r.partition), 'int[]')}, ${param(rows.map((r) => r.watermarkMs), 'bigint[]')}, ${param(rows.map((r) => r.lateEvents), 'bigint[]')},
                  ${param(rows.map((r) => r.delta), 'bigint[]')}) AS u(m, g, b, p, w, le, dl)
      ON CONFLICT (metric, grain, bucket, partition, watermark) DO UPDATE SET late_events = c.late_events + excluded.late_events,
        delta = c.delta + excluded.delta, last_recorded_at = now()`);
  }

  if (changes.stockLevels.length) {
    const rows = [...changes.stockLevels].sort((a, b) => a.sku.localeCompare(b.sku) || a.warehouse.localeCompare(b.warehouse));
    parts.push(`INSERT INTO ${q('stock_levels')} AS s (sku, warehouse, partition, reported_at, available, reorder_point)
      SELECT k, w, ${partition}, to_timestamp(t / 1000.0), a, r
      FROM unnest(${param(rows.map((r) => r.sku), 'text[]')}, ${param(rows.map((r) => r.warehouse), 'text[]')}, ${param(rows.map((r) => r.reportedAtMs), 'bigint[]')},
                  ${param(rows.map((r) => r.available), 'bigint[]')}, ${param(rows.map((r) => r.reorderPoint), 'bigint[]')}) AS u(k, w, t, a, r)
      ON CONFLICT (sku, warehouse, partition) DO UPDATE SET reported_at = excluded.reported_at, available = excluded.available, reorder_point = excluded.reorder_point
      WHERE excluded.reported_at >= s.reported_at`);
  }

  if (changes.stockMovements.length) {
    const rows = [...changes.stockMovements].sort((a, b) => a.sku.localeCompare(b.sku) || a.warehouse.localeCompare(b.warehouse) || a.atMs - b.atMs);
    parts.push(`INSERT INTO ${q('stock_movements')} AS s (sku, warehouse, at, partition, delta)
      SELECT k, w, to_timestamp(t / 1000.0), ${partition}, d
      FROM unnest(${param(rows.map((r) => r.sku), 'text[]')}, ${param(rows.map((r) => r.warehouse), 'text[]')}, ${param(rows.map((r) => r.atMs), 'bigint[]')},
                  ${param(rows.map((r) => r.delta), 'bigint[]')}) AS u(k, w, t, d)
      ON CONFLICT (sku, warehouse, at, partition) DO UPDATE SET delta = s.delta + excluded.delta`);
  }

  if (changes.sessions.length) {
    const rows = [...changes.sessions].sort((a, b) => (a.sessionId < b.sessionId ? -1 : a.sessionId > b.sessionId ? 1 : 0));
    parts.push(`INSERT INTO ${q('sessions')} AS s (session_id, partition, first_seen, last_seen, channel, country)
      SELECT i, ${partition}, to_timestamp(f / 1000.0), to_timestamp(l / 1000.0), c, n
      FROM unnest(${param(rows.map((r) => r.sessionId), 'text[]')}, ${param(rows.map((r) => r.firstMs), 'bigint[]')}, ${param(rows.map((r) => r.lastMs), 'bigint[]')},
                  ${param(rows.map((r) => r.channel), 'text[]')}, ${param(rows.map((r) => r.country), 'text[]')}) AS u(i, f, l, c, n)
      ON CONFLICT (session_id, partition) DO UPDATE SET first_seen = least(s.first_seen, excluded.first_seen), last_seen = greatest(s.last_seen, excluded.last_seen),
        channel = coalesce(s.channel, excluded.channel), country = coalesce(s.country, excluded.country)
      -- Most touches change nothing (last_seen moves in 15 s steps): skip those rewrites.
      WHERE excluded.last_seen > s.last_seen OR excluded.first_seen < s.first_seen
        OR (s.channel IS NULL AND excluded.channel IS NOT NULL) OR (s.country IS NULL AND excluded.country IS NOT NULL)`);
  }

  if (!parts.length) return;
  const sql = parts.length === 1 ? parts[0] : `WITH ${parts.slice(0, -1).map((p, i) => `w${i} AS (${p})`).join(',\n')}\n${parts[parts.length - 1]}`;
  await prepared(client, sql, values);
}
