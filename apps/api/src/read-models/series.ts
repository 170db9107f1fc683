import { baseMetricsOf, bucketStart, dimensionsAt, GRAIN_MS, metricNamed, type Grain, type MetricDefinition } from '@pulse/domain';
import { Problem } from '../http/problem.js';
import type { ReadModels, ServedVersion } from './read-models.js';

export const MAX_POINTS = 2000;
export const MAX_SERIES = 50;

export interface SeriesQuery {
  metric: string;
  grain: Grain;
  fromMs: number;
  toMs: number;
  groupBy: string[];
  filters: Record<string, string>;
}

export interface Point {
  t: string;
  value: number | null;
  final: boolean;
  revisions: number;
  events: number;
  lateEvents: number;
  lateShare: number;
}

export interface SeriesResult {
  metric: string;
  grain: Grain;
  from: string;
  to: string;
  watermark: string | null;
  revision: number;
  version: number;
  series: Array<{ dims: Record<string, string>; points: Point[] }>;
}

/** Checks a query against the catalogue; every rule a user can break gets a 400 that says which. */
export function resolveMetric(q: Pick<SeriesQuery, 'metric' | 'grain' | 'groupBy' | 'filters'>): MetricDefinition {
  const metric = metricNamed(q.metric);
  if (!metric) throw new Problem(400, 'unknown_metric', `metric "${q.metric}" is not in the catalogue (GET /api/v1/metrics)`);
  if (!metric.grains.includes(q.grain)) throw new Problem(400, 'grain_not_available', `${metric.name} is kept at ${metric.grains.join(', ')}, not ${q.grain}`);
  const allowed = dimensionsAt(metric, q.grain);
  for (const d of [...q.groupBy, ...Object.keys(q.filters)]) {
    if (!allowed.includes(d as never)) {
      const hint = q.grain === '1s' && metric.dimensions.includes(d as never) ? ' at 1s (1s buckets keep only the currency; use 1m or coarser)' : '';
      throw new Problem(400, 'dimension_not_allowed', `${metric.name} cannot be grouped or filtered by "${d}"${hint}; allowed: ${allowed.join(', ') || 'none'}`);
    }
  }
  return metric;
}

/** Rows of `table` for these metrics, range and filters, grouped by bucket and the group-by dimensions. */
export function factsQuery(schema: string, grain: Grain, metrics: string[], q: Pick<SeriesQuery, 'fromMs' | 'toMs' | 'groupBy' | 'filters'>) {
  const values: unknown[] = [metrics, new Date(q.fromMs), new Date(q.toMs)];
  // Dimension names come from the catalogue (checked by resolveMetric), never from the request as such.
  const dimExpr = (d: string) => `(dim_key::jsonb ->> '${d}')`;
  const filters = Object.entries(q.filters).map(([d, v]) => {
    values.push(v);
    return `AND ${dimExpr(d)} = $${values.length}`;
  });
  const groups = q.groupBy.map((d, i) => `${dimExpr(d)} AS g${i}`);
  const sql = `SELECT bucket, metric${groups.map((g) => `, ${g}`).join('')},
      sum(value)::float8 AS value, sum(events)::float8 AS events, sum(late_events)::float8 AS late_events
    FROM "${schema}".facts_${grain}
    WHERE metric = ANY($1::text[]) AND bucket >= $2 AND bucket < $3 ${filters.join(' ')}
    GROUP BY bucket, metric${q.groupBy.map((_, i) => `, g${i}`).join('')}`;
  return { sql, values };
}

/** Revisions per bucket: hours and days count the revisions of their minutes, as their roll-ups sum the minutes. */
export async function revisionsPerBucket(models: ReadModels, version: ServedVersion, grain: Grain, metrics: string[], fromMs: number, toMs: number): Promise<Map<number, number>> {
  const fine = grain === '1s' ? '1s' : '1m';
  const bucketExpr = grain === '1h' ? `date_trunc('hour', bucket)` : grain === '1d' ? `date_trunc('day', bucket)` : 'bucket';
  const { rows } = await models.pool.query<{ b: Date; n: string }>(
    `SELECT ${bucketExpr} AS b, count(*) AS n FROM "${version.schema}".corrections
     WHERE metric = ANY($1::text[]) AND grain = $2 AND bucket >= $3 AND bucket < $4 GROUP BY 1`,
    [metrics, fine, new Date(fromMs), new Date(toMs)],
  );
  return new Map(rows.map((r) => [r.b.getTime(), Number(r.n)]));
}

export async function querySeries(models: ReadModels, q: SeriesQuery): Promise<SeriesResult> {
  const metric = resolveMetric(q);
  const size = GRAIN_MS[q.grain];
  const fromMs = bucketStart(q.fromMs, q.grain);
  const toMs = Math.ceil(q.toMs / size) * size;
  const buckets = (toMs - fromMs) / size;
  if (buckets > MAX_POINTS) throw new Problem(400, 'too_many_points', `${buckets} ${q.grain} buckets requested; at most ${MAX_POINTS}: narrow the range or use a coarser grain`);
  if (toMs <= fromMs) throw new Problem(400, 'empty_range', '`to` must be after `from`');

  const version = await models.servedVersion(metric.projection);
  const base = baseMetricsOf(metric);
  const { sql, values } = factsQuery(version.schema, q.grain, base, { ...q, fromMs, toMs });
  const [facts, revisions, watermarkMs, revision] = await Promise.all([
    models.pool.query<Record<string, unknown> & { bucket: Date; metric: string; value: number; events: number; late_events: number }>(sql, values),
    revisionsPerBucket(models, version, q.grain, base, fromMs, toMs),
    models.watermarkMs(version),
    models.currentRevision(),
  ]);

  type Acc = { num: number; den: number; events: number; late: number };
  const series = new Map<string, { dims: Record<string, string>; points: Map<number, Acc> }>();
  for (const row of facts.rows) {
    const dims = Object.fromEntries(q.groupBy.map((d, i) => [d, (row[`g${i}`] as string | null) ?? '(none)']));
    const key = JSON.stringify(dims);
    let s = series.get(key);
    if (!s) {
      if (series.size >= MAX_SERIES) throw new Problem(400, 'too_many_series', `grouping by ${q.groupBy.join(', ')} gives more than ${MAX_SERIES} series: add a filter`);
      s = { dims, points: new Map() };
      series.set(key, s);
    }
    const t = row.bucket.getTime();
    const acc = s.points.get(t) ?? { num: 0, den: 0, events: 0, late: 0 };
    if (metric.kind === 'ratio' && row.metric === metric.denominator) acc.den += row.value;
    else acc.num += row.value;
    acc.events += row.events;
    acc.late += row.late_events;
    s.points.set(t, acc);
  }
  if (!series.size && !q.groupBy.length) series.set('{}', { dims: {}, points: new Map() });

  const toPoint = (t: number, acc: Acc | undefined): Point => {
    const a = acc ?? { num: 0, den: 0, events: 0, late: 0 };
    const value = metric.kind === 'ratio' ? (a.den > 0 ? a.num / a.den : null) : a.num;
    return { t: new Date(t).toISOString(), value, final: watermarkMs !== null && t + size <= watermarkMs, revisions: revisions.get(t) ?? 0, events: a.events, lateEvents: a.late, lateShare: a.events ? a.late / a.events : 0 };
  };
  return {
    metric: metric.name,
    grain: q.grain,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    watermark: watermarkMs === null ? null : new Date(watermarkMs).toISOString(),
    revision,
    version: version.version,
    series: [...series.values()].map((s) => ({ dims: s.dims, points: Array.from({ length: buckets }, (_, i) => toPoint(fromMs + i * size, s.points.get(fromMs + i * size))) })),
  };
}
