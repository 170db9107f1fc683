import { baseMetricsOf, metricNamed, type Grain } from '@pulse/domain';
import type { ReadModels } from './read-models.js';
import { factsQuery } from './series.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;

interface TileSpec {
  key: string;
  title: string;
  metric: string;
  /** How the window is chosen relative to now. */
  window: 'last_minute' | 'today' | 'last_hour' | 'last_15m';
  money?: boolean;
}

const TILES: TileSpec[] = [
  { key: 'orders_last_minute', title: 'Orders, last minute', metric: 'orders', window: 'last_minute' },
  { key: 'revenue_last_minute', title: 'Revenue, last minute', metric: 'revenue', window: 'last_minute', money: true },
  { key: 'orders_today', title: 'Orders today', metric: 'orders', window: 'today' },
  { key: 'revenue_today', title: 'Revenue today', metric: 'revenue', window: 'today', money: true },
  { key: 'average_order_value_today', title: 'Average order value today', metric: 'average_order_value', window: 'today', money: true },
  { key: 'conversion_rate_last_hour', title: 'Conversion, last hour', metric: 'conversion_rate', window: 'last_hour' },
  { key: 'checkout_failure_rate_last_15m', title: 'Checkout failures, last 15 min', metric: 'checkout_failure_rate', window: 'last_15m' },
];

function windowOf(spec: TileSpec, nowMs: number, dayStartMs: number): { fromMs: number; toMs: number; grain: Grain } {
  switch (spec.window) {
    case 'last_minute':
      return { fromMs: Math.floor(nowMs / 1000) * 1000 - 60_000, toMs: Math.floor(nowMs / 1000) * 1000, grain: '1s' };
    case 'last_15m':
      return { fromMs: Math.floor(nowMs / 60_000) * 60_000 - 14 * 60_000, toMs: nowMs + 1, grain: '1m' };
    case 'last_hour':
      return { fromMs: Math.floor(nowMs / 60_000) * 60_000 - 59 * 60_000, toMs: nowMs + 1, grain: '1m' };
    case 'today':
      return { fromMs: dayStartMs, toMs: nowMs + 1, grain: '1m' };
  }
}

/** Start of the shop's day containing `nowMs`, in its time zone. */
export function shopDayStart(nowMs: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(nowMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const sinceMidnight = ((get('hour') * 60 + get('minute')) * 60 + get('second')) * 1000 + (nowMs % 1000);
  return nowMs - sinceMidnight;
}

async function sumOf(models: ReadModels, metricName: string, range: { fromMs: number; toMs: number; grain: Grain }, currency: string | undefined): Promise<number | null> {
  const metric = metricNamed(metricName)!;
  const version = await models.servedVersion(metric.projection);
  const filters: Record<string, string> = currency && metric.dimensions.includes('currency') ? { currency } : {};
  const { sql, values } = factsQuery(version.schema, range.grain, baseMetricsOf(metric), { fromMs: range.fromMs, toMs: range.toMs, groupBy: [], filters });
  const { rows } = await models.pool.query<{ metric: string; value: number }>(sql, values);
  let num = 0;
  let den = 0;
  for (const r of rows) {
    if (metric.kind === 'ratio' && r.metric === metric.denominator) den += r.value;
    else num += r.value;
  }
  return metric.kind === 'ratio' ? (den ? num / den : null) : num;
}

async function sparkline(models: ReadModels, metricName: string, nowMs: number, currency: string | undefined) {
  const metric = metricNamed(metricName)!;
  const version = await models.servedVersion(metric.projection);
  const fromMs = Math.floor(nowMs / 60_000) * 60_000 - 29 * 60_000;
  const filters: Record<string, string> = currency && metric.dimensions.includes('currency') ? { currency } : {};
  const { sql, values } = factsQuery(version.schema, '1m', baseMetricsOf(metric), { fromMs, toMs: nowMs + 1, groupBy: [], filters });
  const { rows } = await models.pool.query<{ bucket: Date; metric: string; value: number }>(sql, values);
  const byMinute = new Map<number, { num: number; den: number }>();
  for (const r of rows) {
    const m = byMinute.get(r.bucket.getTime()) ?? { num: 0, den: 0 };
    if (metric.kind === 'ratio' && r.metric === metric.denominator) m.den += r.value;
    else m.num += r.value;
    byMinute.set(r.bucket.getTime(), m);
  }
  return Array.from({ length: 30 }, (_, i) => {
    const t = fromMs + i * 60_000;
    const m = byMinute.get(t) ?? { num: 0, den: 0 };
    return { t: new Date(t).toISOString(), value: metric.kind === 'ratio' ? (m.den ? m.num / m.den : null) : m.num };
  });
}

/** The overview tiles: each value with the same window yesterday and a week ago, and its last half hour. */
export async function queryNow(models: ReadModels, options: { nowMs: number; currency?: string; timeZone: string }) {
  const { nowMs, currency, timeZone } = options;
  const start = shopDayStart(nowMs, timeZone);
  const tiles = await Promise.all(
    TILES.map(async (spec) => {
      const range = windowOf(spec, nowMs, start);
      const shifted = (by: number) => ({ ...range, fromMs: range.fromMs - by, toMs: range.toMs - by });
      const [value, yesterday, lastWeek, line] = await Promise.all([
        sumOf(models, spec.metric, range, currency),
        sumOf(models, spec.metric, shifted(DAY), currency),
        sumOf(models, spec.metric, shifted(WEEK), currency),
        sparkline(models, spec.metric, nowMs, currency),
      ]);
      const metric = metricNamed(spec.metric)!;
      return { key: spec.key, title: spec.title, unit: metric.unit, metric: spec.metric, grain: range.grain, currency: spec.money ? currency ?? null : null, value, comparison: { yesterday, lastWeek }, sparkline: line, higherIsBetter: metric.higherIsBetter ?? null };
    }),
  );
  const traffic = await models.servedVersion('traffic');
  const active = await models.pool.query<{ n: string; y: string }>(
    `SELECT count(DISTINCT session_id) FILTER (WHERE last_seen >= $1) AS n,
            count(DISTINCT session_id) FILTER (WHERE first_seen <= $2 AND last_seen >= $3) AS y
     FROM "${traffic.schema}".sessions WHERE last_seen >= $3`,
    [new Date(nowMs - 5 * 60_000), new Date(nowMs - DAY), new Date(nowMs - DAY - 5 * 60_000)],
  );
  tiles.push({
    key: 'active_sessions',
    title: 'Active sessions (5 min)',
    unit: 'count',
    metric: 'sessions',
    grain: '1m',
    currency: null,
    value: Number(active.rows[0].n),
    // Session activity is kept for two days: a week ago is not known.
    comparison: { yesterday: Number(active.rows[0].y), lastWeek: null },
    sparkline: await sparkline(models, 'sessions', nowMs, undefined),
    higherIsBetter: true,
  });
  const sales = await models.servedVersion('sales');
  const watermarkMs = await models.watermarkMs(sales);
  return { at: new Date(nowMs).toISOString(), currency: currency ?? null, watermark: watermarkMs === null ? null : new Date(watermarkMs).toISOString(), revision: await models.currentRevision(), tiles };
}
