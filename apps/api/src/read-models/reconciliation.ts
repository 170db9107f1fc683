import { baseMetricsOf, bucketStart, GRAIN_MS, metricNamed, type Grain } from '@pulse/domain';
import { Problem } from '../http/problem.js';
import type { ReadModels } from './read-models.js';

/** The correction history of one bucket: every late arrival that revised it, when, and by how much. */
export async function queryCorrections(models: ReadModels, metricName: string, grain: Grain, bucketMs: number) {
  const metric = metricNamed(metricName);
  if (!metric) throw new Problem(400, 'unknown_metric', `metric "${metricName}" is not in the catalogue`);
  const version = await models.servedVersion(metric.projection);
  const start = bucketStart(bucketMs, grain);
  const end = start + GRAIN_MS[grain];
  const fine = grain === '1s' ? '1s' : '1m';
  const base = baseMetricsOf(metric);
  const [history, total, watermarkMs] = await Promise.all([
    models.pool.query<{ metric: string; first_recorded_at: Date; watermark: Date; late_events: string; delta: string; partition: number; bucket: Date }>(
      `SELECT metric, bucket, first_recorded_at, watermark, late_events, delta, partition FROM "${version.schema}".corrections
       WHERE metric = ANY($1::text[]) AND grain = $2 AND bucket >= $3 AND bucket < $4 ORDER BY first_recorded_at, watermark, bucket, metric COLLATE "C", partition`,
      [base, fine, new Date(start), new Date(end)],
    ),
    models.pool.query<{ metric: string; value: string }>(
      `SELECT metric, sum(value) AS value FROM "${version.schema}".facts_${grain} WHERE metric = ANY($1::text[]) AND bucket = $2 GROUP BY metric`,
      [base, new Date(start)],
    ),
    models.watermarkMs(version),
  ]);
  const sums = new Map(total.rows.map((r) => [r.metric, Number(r.value)]));
  const value = metric.kind === 'ratio' ? ((sums.get(metric.denominator) ?? 0) ? (sums.get(metric.numerator) ?? 0) / sums.get(metric.denominator)! : null) : (sums.get(metric.name) ?? 0);
  return {
    metric: metric.name,
    grain,
    bucket: new Date(start).toISOString(),
    value,
    final: watermarkMs !== null && end <= watermarkMs,
    history: history.rows.map((r) => ({ metric: r.metric, bucket: r.bucket.toISOString(), recordedAt: r.first_recorded_at.toISOString(), watermark: r.watermark.toISOString(), lateEvents: Number(r.late_events), delta: Number(r.delta), partition: r.partition })),
  };
}

const RECONCILED = ['orders', 'revenue', 'units', 'sessions', 'checkouts_started', 'checkout_failures', 'payment_failures', 'page_views', 'cart_adds', 'cancellations', 'refunded_amount'];

/** "Why did today's numbers change?": how much of each arrived late, and the largest revisions. */
export async function queryReconciliation(models: ReadModels, dayStartMs: number) {
  const from = new Date(dayStartMs);
  const to = new Date(dayStartMs + 86_400_000);
  const metrics = RECONCILED.map((n) => metricNamed(n)!).filter((m) => m.kind === 'sum');
  const byProjection = new Map<string, string[]>();
  for (const m of metrics) byProjection.set(m.projection, [...(byProjection.get(m.projection) ?? []), m.name]);
  const rows: Array<{ metric: string; title: string; unit: string; total: number; lateValue: number; lateShare: number; lateEvents: number; revisions: number }> = [];
  const largest: Array<{ metric: string; grain: string; bucket: string; delta: number; lateEvents: number; recordedAt: string; unit: string }> = [];
  for (const [projection, names] of byProjection) {
    const version = await models.servedVersion(projection as never);
    const facts = await models.pool.query<{ metric: string; total: string; late_value: string; late_events: string }>(
      `SELECT metric, sum(value) AS total, sum(late_value) AS late_value, sum(late_events) AS late_events FROM "${version.schema}".facts_1m
       WHERE metric = ANY($1::text[]) AND bucket >= $2 AND bucket < $3 GROUP BY metric`,
      [names, from, to],
    );
    const revisions = await models.pool.query<{ metric: string; n: string }>(
      `SELECT metric, count(*) AS n FROM "${version.schema}".corrections WHERE metric = ANY($1::text[]) AND grain = '1m' AND bucket >= $2 AND bucket < $3 GROUP BY metric`,
      [names, from, to],
    );
    const top = await models.pool.query<{ metric: string; bucket: Date; delta: string; late_events: string; first_recorded_at: Date }>(
      `SELECT metric, bucket, sum(delta) AS delta, sum(late_events) AS late_events, min(first_recorded_at) AS first_recorded_at
       FROM "${version.schema}".corrections WHERE metric = ANY($1::text[]) AND grain = '1m' AND bucket >= $2 AND bucket < $3
       GROUP BY metric, bucket ORDER BY sum(late_events) DESC, abs(sum(delta)) DESC, metric COLLATE "C", bucket LIMIT 20`,
      [names, from, to],
    );
    const f = new Map(facts.rows.map((r) => [r.metric, r]));
    const rv = new Map(revisions.rows.map((r) => [r.metric, Number(r.n)]));
    for (const name of names) {
      const m = metricNamed(name)!;
      const r = f.get(name);
      const total = Number(r?.total ?? 0);
      const lateValue = Number(r?.late_value ?? 0);
      rows.push({ metric: name, title: m.title, unit: m.unit, total, lateValue, lateShare: total ? lateValue / total : 0, lateEvents: Number(r?.late_events ?? 0), revisions: rv.get(name) ?? 0 });
    }
    for (const t of top.rows) largest.push({ metric: t.metric, grain: '1m', bucket: t.bucket.toISOString(), delta: Number(t.delta), lateEvents: Number(t.late_events), recordedAt: t.first_recorded_at.toISOString(), unit: metricNamed(t.metric)!.unit });
  }
  // Ties broken by metric and bucket, here as in each query: which 20 are kept must not depend on the
  // order the database happens to return equal rows in.
  largest.sort((a, b) => b.lateEvents - a.lateEvents || Math.abs(b.delta) - Math.abs(a.delta) || codeUnitOrder(a.metric, b.metric) || codeUnitOrder(a.bucket, b.bucket));
  return { date: from.toISOString().slice(0, 10), from: from.toISOString(), to: to.toISOString(), metrics: rows, largestRevisions: largest.slice(0, 20) };
}

const codeUnitOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
