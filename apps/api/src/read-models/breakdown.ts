import { baseMetricsOf, type Grain } from '@pulse/domain';
import { Problem } from '../http/problem.js';
import type { ReadModels } from './read-models.js';
import { factsQuery, resolveMetric } from './series.js';

export interface BreakdownQuery {
  metric: string;
  by: string;
  fromMs: number;
  toMs: number;
  limit: number;
  filters: Record<string, string>;
}

/** Minutes are exact for any range; beyond two days whole hours keep the scan small. */
function grainFor(fromMs: number, toMs: number): Grain {
  return toMs - fromMs <= 2 * 86_400_000 ? '1m' : '1h';
}

/** A metric summed over a range and split by one dimension, largest first: top products, top searches, failures by reason. */
export async function queryBreakdown(models: ReadModels, q: BreakdownQuery) {
  if (toMsInvalid(q)) throw new Problem(400, 'empty_range', '`to` must be after `from`');
  const grain = grainFor(q.fromMs, q.toMs);
  const fromMs = grain === '1h' ? Math.floor(q.fromMs / 3_600_000) * 3_600_000 : Math.floor(q.fromMs / 60_000) * 60_000;
  const metric = resolveMetric({ metric: q.metric, grain: '1m', groupBy: [q.by], filters: q.filters });
  const version = await models.servedVersion(metric.projection);
  const { sql, values } = factsQuery(version.schema, grain, baseMetricsOf(metric), { fromMs, toMs: q.toMs, groupBy: [q.by], filters: q.filters });
  const { rows } = await models.pool.query<{ metric: string; g0: string | null; value: number }>(sql, values);
  const groups = new Map<string, { num: number; den: number }>();
  for (const r of rows) {
    const key = r.g0 ?? '(none)';
    const g = groups.get(key) ?? { num: 0, den: 0 };
    if (metric.kind === 'ratio' && r.metric === metric.denominator) g.den += r.value;
    else g.num += r.value;
    groups.set(key, g);
  }
  const result = [...groups.entries()].map(([value, g]) => ({ dims: { [q.by]: value }, value: metric.kind === 'ratio' ? (g.den ? g.num / g.den : null) : g.num }));
  // Equal values in the order of their dimension value: otherwise which of them make the top `limit`
  // would depend on the order the database happens to return groups in.
  result.sort((a, b) => (b.value ?? -Infinity) - (a.value ?? -Infinity) || codeUnitOrder(a.dims[q.by], b.dims[q.by]));
  return { metric: metric.name, by: q.by, from: new Date(fromMs).toISOString(), to: new Date(q.toMs).toISOString(), rows: result.slice(0, q.limit) };
}

const codeUnitOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function toMsInvalid(q: BreakdownQuery): boolean {
  return !(q.toMs > q.fromMs);
}
