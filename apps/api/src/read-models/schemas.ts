// Request and response schemas of the read endpoints: they validate requests, document the API
// (OpenAPI at /api/docs) and are checked against real responses by the API's contract test.
const iso = { type: 'string', format: 'date-time' } as const;
const nullableNumber = { type: ['number', 'null'] } as const;
const grain = { type: 'string', enum: ['1s', '1m', '1h', '1d'] } as const;
const filter = {
  type: 'array',
  items: { type: 'string', pattern: '^[a-z_]+:.+$' },
  description: 'dimension:value, repeatable (filter=country:DE&filter=channel:web)',
} as const;

const point = {
  type: 'object',
  required: ['t', 'value', 'final', 'revisions', 'events', 'lateEvents', 'lateShare'],
  properties: { t: iso, value: nullableNumber, final: { type: 'boolean' }, revisions: { type: 'integer' }, events: { type: 'number' }, lateEvents: { type: 'number' }, lateShare: { type: 'number' } },
};

export const seriesSchema = {
  type: 'object',
  required: ['metric', 'grain', 'from', 'to', 'watermark', 'revision', 'version', 'series'],
  properties: {
    metric: { type: 'string' },
    grain,
    from: iso,
    to: iso,
    watermark: { type: ['string', 'null'] },
    revision: { type: 'integer' },
    version: { type: 'integer' },
    series: { type: 'array', items: { type: 'object', required: ['dims', 'points'], properties: { dims: { type: 'object', additionalProperties: { type: 'string' } }, points: { type: 'array', items: point } } } },
  },
};

export const schemas = {
  metricsResponse: {
    type: 'array',
    items: {
      type: 'object',
      required: ['name', 'title', 'description', 'unit', 'kind', 'projection', 'dimensions', 'grains'],
      properties: {
        name: { type: 'string' }, title: { type: 'string' }, description: { type: 'string' }, unit: { type: 'string', enum: ['count', 'minor_units', 'ratio'] },
        kind: { type: 'string', enum: ['sum', 'ratio'] }, projection: { type: 'string' }, dimensions: { type: 'array', items: { type: 'string' } },
        grains: { type: 'array', items: grain }, higherIsBetter: { type: 'boolean' }, numerator: { type: 'string' }, denominator: { type: 'string' },
      },
    },
  },
  seriesQuery: {
    type: 'object' as const,
    required: ['metric', 'grain', 'from', 'to'],
    properties: { metric: { type: 'string' }, grain, from: { ...iso, description: 'start, inclusive (rounded down to the grain)' }, to: { ...iso, description: 'end, exclusive' }, groupBy: { type: 'array', items: { type: 'string' }, maxItems: 3 }, filter },
  },
  seriesResponse: seriesSchema,
  breakdownQuery: {
    type: 'object' as const,
    required: ['metric', 'by', 'from', 'to'],
    properties: { metric: { type: 'string' }, by: { type: 'string' }, from: iso, to: iso, limit: { type: 'integer', minimum: 1, maximum: 200, default: 10 }, filter },
  },
  breakdownResponse: {
    type: 'object',
    required: ['metric', 'by', 'from', 'to', 'rows'],
    properties: { metric: { type: 'string' }, by: { type: 'string' }, from: iso, to: iso, rows: { type: 'array', items: { type: 'object', required: ['dims', 'value'], properties: { dims: { type: 'object' }, value: nullableNumber } } } },
  },
  nowQuery: { type: 'object' as const, properties: { currency: { type: 'string', pattern: '^[A-Z]{3}$', description: 'money tiles in this currency (default: the shop currency)' } } },
  nowResponse: {
    type: 'object',
    required: ['at', 'watermark', 'revision', 'tiles'],
    properties: {
      at: iso,
      currency: { type: ['string', 'null'] },
      watermark: { type: ['string', 'null'] },
      revision: { type: 'integer' },
      tiles: {
        type: 'array',
        items: {
          type: 'object',
          required: ['key', 'title', 'unit', 'value', 'comparison', 'sparkline', 'metric', 'grain'],
          properties: {
            key: { type: 'string' }, title: { type: 'string' }, unit: { type: 'string' }, value: nullableNumber, metric: { type: 'string' }, grain, currency: { type: ['string', 'null'] },
            comparison: { type: 'object', required: ['yesterday', 'lastWeek'], properties: { yesterday: nullableNumber, lastWeek: nullableNumber } },
            sparkline: { type: 'array', items: { type: 'object', required: ['t', 'value'], properties: { t: iso, value: nullableNumber } } },
            higherIsBetter: { type: ['boolean', 'null'] },
          },
        },
      },
    },
  },
  rangeQuery: { type: 'object' as const, required: ['from', 'to'], properties: { from: iso, to: iso } },
  funnelResponse: {
    type: 'object',
    required: ['from', 'to', 'steps'],
    properties: { from: iso, to: iso, steps: { type: 'array', items: { type: 'object', required: ['metric', 'title', 'value', 'conversionFromPrevious'], properties: { metric: { type: 'string' }, title: { type: 'string' }, value: { type: 'number' }, conversionFromPrevious: nullableNumber } } } },
  },
  stockQuery: {
    type: 'object' as const,
    properties: { sku: { type: 'string' }, warehouse: { type: 'string' }, status: { type: 'string', enum: ['out', 'low', 'ok'] }, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  },
  stockResponse: {
    type: 'object',
    required: ['rows'],
    properties: {
      rows: {
        type: 'array',
        items: {
          type: 'object',
          required: ['sku', 'warehouse', 'available', 'reportedAt', 'reorderPoint', 'unitsPerHour', 'hoursToStockout', 'status', 'lostUnitsPerHour'],
          properties: {
            sku: { type: 'string' }, warehouse: { type: 'string' }, available: { type: 'number' }, reportedAt: { type: ['string', 'null'] }, reorderPoint: { type: 'number' }, unitsPerHour: { type: 'number' },
            hoursToStockout: nullableNumber, sellThrough: nullableNumber, status: { type: 'string', enum: ['out', 'low', 'ok'] }, lostUnitsPerHour: { type: 'number' },
          },
        },
      },
    },
  },
  correctionsQuery: { type: 'object' as const, required: ['metric', 'grain', 'bucket'], properties: { metric: { type: 'string' }, grain, bucket: iso } },
  correctionsResponse: {
    type: 'object',
    required: ['metric', 'grain', 'bucket', 'value', 'final', 'history'],
    properties: {
      metric: { type: 'string' }, grain, bucket: iso, value: nullableNumber, final: { type: 'boolean' },
      history: { type: 'array', items: { type: 'object', required: ['metric', 'bucket', 'recordedAt', 'watermark', 'lateEvents', 'delta', 'partition'], properties: { metric: { type: 'string' }, bucket: iso, recordedAt: iso, watermark: iso, lateEvents: { type: 'number' }, delta: { type: 'number' }, partition: { type: 'integer' } } } },
    },
  },
  reconciliationQuery: { type: 'object' as const, properties: { date: { type: 'string', format: 'date', description: 'the shop day, YYYY-MM-DD (default today)' } } },
  reconciliationResponse: {
    type: 'object',
    required: ['date', 'from', 'to', 'metrics', 'largestRevisions'],
    properties: {
      date: { type: 'string' }, from: iso, to: iso,
      metrics: { type: 'array', items: { type: 'object', required: ['metric', 'title', 'unit', 'total', 'lateValue', 'lateShare', 'lateEvents', 'revisions'], properties: { metric: { type: 'string' }, title: { type: 'string' }, unit: { type: 'string' }, total: { type: 'number' }, lateValue: { type: 'number' }, lateShare: { type: 'number' }, lateEvents: { type: 'number' }, revisions: { type: 'integer' } } } },
      largestRevisions: { type: 'array', items: { type: 'object', required: ['metric', 'grain', 'bucket', 'delta', 'lateEvents', 'recordedAt'], properties: { metric: { type: 'string' }, grain: { type: 'string' }, bucket: iso, delta: { type: 'number' }, lateEvents: { type: 'number' }, recordedAt: iso, unit: { type: 'string' } } } },
    },
  },
  sessionResponse: { type: 'object', required: ['name', 'role'], properties: { name: { type: 'string' }, role: { type: 'string', enum: ['producer', 'operator', 'admin'] } } },
};
