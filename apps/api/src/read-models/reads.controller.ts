import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import { METRICS, type Grain } from '@pulse/domain';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { Endpoint, Input } from '../http/endpoint.js';
import { queryBreakdown } from './breakdown.js';
import { queryFunnel } from './funnel.js';
import { queryStock } from './inventory.js';
import { queryNow, shopDayStart } from './now-tiles.js';
import { ReadModels } from './read-models.js';
import { queryCorrections, queryReconciliation } from './reconciliation.js';
import { schemas } from './schemas.js';
import { querySeries } from './series.js';

interface RangeInput {
  from: string;
  to: string;
}

/** "dimension:value" strings to a filter object. */
function filters(list: string[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((f) => [f.slice(0, f.indexOf(':')), f.slice(f.indexOf(':') + 1)]));
}

@Controller('api/v1')
export class ReadsController {
  constructor(
    private readonly models: ReadModels,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get('session')
  @Endpoint({ tag: 'access', summary: 'Who the token belongs to, and its role', role: 'any', response: schemas.sessionResponse })
  session(@Res({ passthrough: true }) res: Response) {
    return res.locals.principal as { name: string; role: string };
  }

  @Get('metrics')
  @Endpoint({ tag: 'reads', summary: 'The metric catalogue: every metric, its unit, dimensions and grains', role: 'operator', response: schemas.metricsResponse })
  metrics() {
    return METRICS;
  }

  @Get('series')
  @Endpoint({ tag: 'reads', summary: 'Time series of a metric by event time, optionally grouped and filtered', role: 'operator', query: schemas.seriesQuery, response: schemas.seriesResponse })
  series(@Input() q: RangeInput & { metric: string; grain: Grain; groupBy?: string[]; filter?: string[] }) {
    return querySeries(this.models, { metric: q.metric, grain: q.grain, fromMs: Date.parse(q.from), toMs: Date.parse(q.to), groupBy: q.groupBy ?? [], filters: filters(q.filter) });
  }

  @Get('breakdown')
  @Endpoint({ tag: 'reads', summary: 'A metric over a range, split by one dimension, largest first', role: 'operator', query: schemas.breakdownQuery, response: schemas.breakdownResponse })
  breakdown(@Input() q: RangeInput & { metric: string; by: string; limit: number; filter?: string[] }) {
    return queryBreakdown(this.models, { metric: q.metric, by: q.by, fromMs: Date.parse(q.from), toMs: Date.parse(q.to), limit: q.limit, filters: filters(q.filter) });
  }

  @Get('now')
  @Endpoint({ tag: 'reads', summary: 'The overview tiles, with yesterday, last week and a sparkline', role: 'operator', query: schemas.nowQuery, response: schemas.nowResponse })
  now(@Input() q: { currency?: string }) {
    return queryNow(this.models, { nowMs: Date.now(), currency: q.currency ?? this.config.shop.currency, timeZone: this.config.shop.timeZone });
  }

  @Get('funnel')
  @Endpoint({ tag: 'reads', summary: 'Funnel steps and the conversion between them', role: 'operator', query: schemas.rangeQuery, response: schemas.funnelResponse })
  funnel(@Input() q: RangeInput) {
    return queryFunnel(this.models, Date.parse(q.from), Date.parse(q.to));
  }

  @Get('inventory/stock')
  @Endpoint({ tag: 'reads', summary: 'Current stock per SKU and warehouse, with time to stockout and lost demand', role: 'operator', query: schemas.stockQuery, response: schemas.stockResponse })
  stock(@Input() q: { sku?: string; warehouse?: string; status?: 'out' | 'low' | 'ok'; limit: number }) {
    return queryStock(this.models, { ...q, nowMs: Date.now() });
  }

  @Get('corrections')
  @Endpoint({ tag: 'reconciliation', summary: 'The correction history of one bucket', role: 'operator', query: schemas.correctionsQuery, response: schemas.correctionsResponse })
  corrections(@Input() q: { metric: string; grain: Grain; bucket: string }) {
    return queryCorrections(this.models, q.metric, q.grain, Date.parse(q.bucket));
  }

  @Get('reconciliation')
  @Endpoint({ tag: 'reconciliation', summary: 'How much of a day arrived late, and the largest revisions', role: 'operator', query: schemas.reconciliationQuery, response: schemas.reconciliationResponse })
  reconciliation(@Input() q: { date?: string }) {
    const start = q.date ? shopDayStart(Date.parse(`${q.date}T12:00:00Z`), this.config.shop.timeZone) : shopDayStart(Date.now(), this.config.shop.timeZone);
    return queryReconciliation(this.models, start);
  }
}
