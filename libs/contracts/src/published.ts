/**
 * Subjects Pulse publishes for downstream services (besides the event store itself), with their
 * payload schemas: the source of truth for the AsyncAPI document and for consumers' validation.
 */
export interface PublishedChannel {
  name: string;
  title: string;
  address: string;
  summary: string;
  action: 'send' | 'receive';
  operation: string;
  parameters?: Record<string, unknown>;
  payload: Record<string, unknown>;
}

const bucketRange = {
  type: 'object',
  additionalProperties: false,
  required: ['metric', 'grain', 'from', 'to'],
  properties: {
    metric: { type: 'string', description: 'Base metric name from the metric catalogue (GET /api/v1/metrics).' },
    grain: { enum: ['1s', '1m'], description: 'Bucket size; hourly and daily roll-ups change with their minutes.' },
    from: { type: 'string', format: 'date-time', description: 'Start of the first changed bucket.' },
    to: { type: 'string', format: 'date-time', description: 'End (exclusive) of the last changed bucket.' },
  },
} as const;

/** Published (core NATS, at most every notify interval per projection) after read-model commits. */
export const readModelChangedSchema = {
  $id: 'https://schemas.pulse.dev/published/read-model.changed/1',
  title: 'read-model.changed v1',
  description:
    'Which buckets of a projection changed since the previous notification. Coalesced: many commits become one message. Fetch the new values from the query API; the read model, not this message, is the truth.',
  type: 'object',
  additionalProperties: false,
  required: ['projection', 'version', 'revision', 'changes', 'corrected', 'emittedAt'],
  properties: {
    projection: { type: 'string' },
    version: { type: 'integer', minimum: 1 },
    revision: { type: 'integer', minimum: 1, description: 'Highest read-model revision included; revisions only grow.' },
    changes: { type: 'array', items: bucketRange },
    corrected: { type: 'array', items: bucketRange, description: 'Buckets that were already final and were revised by late events.' },
    emittedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export interface BucketRange {
  metric: string;
  grain: '1s' | '1m';
  from: string;
  to: string;
}

export interface ReadModelChanged {
  projection: string;
  version: number;
  revision: number;
  changes: BucketRange[];
  corrected: BucketRange[];
  emittedAt: string;
}

export const extraChannels: PublishedChannel[] = [
  {
    name: 'readModelChanged',
    title: 'Read model changed',
    address: 'pulse.changes.{projection}',
    summary: 'Change notifications of the read models (sales, checkout, funnel, traffic, inventory), for live dashboards and downstream services.',
    action: 'send',
    operation: 'The projector publishes after each commit, coalesced; the API pushes updates to browsers from these.',
    parameters: { projection: { enum: ['sales', 'checkout', 'funnel', 'traffic', 'inventory'] } },
    payload: readModelChangedSchema as unknown as Record<string, unknown>,
  },
];
