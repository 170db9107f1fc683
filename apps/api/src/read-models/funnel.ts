import type { ReadModels } from './read-models.js';
import { factsQuery } from './series.js';

const STEPS = [
  { metric: 'sessions', title: 'Sessions' },
  { metric: 'product_views', title: 'Product views' },
  { metric: 'cart_adds', title: 'Add to cart' },
  { metric: 'funnel_checkouts', title: 'Checkout started' },
  { metric: 'funnel_orders', title: 'Orders' },
];

/** Funnel step counts over a range, with the conversion from each step to the next. */
export async function queryFunnel(models: ReadModels, fromMs: number, toMs: number) {
  const version = await models.servedVersion('funnel');
  const { sql, values } = factsQuery(version.schema, '1m', STEPS.map((s) => s.metric), { fromMs: Math.floor(fromMs / 60_000) * 60_000, toMs, groupBy: [], filters: {} });
  const { rows } = await models.pool.query<{ metric: string; value: number }>(sql, values);
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.metric, (totals.get(r.metric) ?? 0) + r.value);
  return {
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    steps: STEPS.map((s, i) => {
      const value = totals.get(s.metric) ?? 0;
      const previous = i ? (totals.get(STEPS[i - 1].metric) ?? 0) : null;
      return { metric: s.metric, title: s.title, value, conversionFromPrevious: previous === null ? null : previous ? value / previous : null };
    }),
  };
}
