const iso = { type: 'string', format: 'date-time' } as const;

export const operationSchema = {
  type: 'object',
  required: ['id', 'kind', 'status', 'requestedBy', 'reason', 'options', 'createdAt'],
  properties: {
    id: { type: 'integer' },
    kind: { type: 'string', enum: ['rebuild', 'replay'] },
    projection: { type: ['string', 'null'] },
    status: { type: 'string', enum: ['requested', 'running', 'cancelling', 'completed', 'cancelled', 'failed'] },
    requestedBy: { type: 'string' },
    reason: { type: 'string' },
    options: { type: 'object' },
    version: { type: ['integer', 'null'], description: 'the version a rebuild builds' },
    startSeq: { type: ['integer', 'null'] },
    progress: {
      type: ['object', 'null'],
      description: 'rebuild: processedEvents, remainingEvents, eventsPerSecond, etaSeconds, lagEvents, lagSeconds, position, head; replay: published, scanned, position, head',
    },
    error: { type: ['string', 'null'] },
    createdAt: iso,
    startedAt: { type: ['string', 'null'] },
    finishedAt: { type: ['string', 'null'] },
    durationSeconds: { type: ['number', 'null'] },
  },
};

export const adminSchemas = {
  rebuildBody: {
    type: 'object' as const,
    required: ['projection', 'reason'],
    properties: {
      projection: { type: 'string', enum: ['sales', 'checkout', 'funnel', 'traffic', 'inventory'] },
      mode: { type: 'string', enum: ['full', 'from-time', 'from-sequence'], default: 'full' },
      from: { type: ['string', 'integer'], description: 'ISO time (from-time) or stream sequence (from-sequence)' },
      reason: { type: 'string', minLength: 3, description: 'why: kept in the audit record' },
      maxEventsPerSecond: { type: 'integer', minimum: 100 },
      reverify: { type: 'boolean', description: 'validate and de-duplicate every stored event again instead of following the live pipeline\'s recorded decisions (slower)' },
    },
  },
  replayBody: {
    type: 'object' as const,
    required: ['subject', 'reason'],
    properties: {
      subject: { type: 'string', description: 'NATS subject the downstream service listens on' },
      from: iso,
      to: iso,
      fromSeq: { type: 'integer', minimum: 1 },
      toSeq: { type: 'integer', minimum: 1 },
      types: { type: 'array', items: { type: 'string' } },
      ratePerSecond: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 5000 },
      reason: { type: 'string', minLength: 3 },
    },
  },
  operationsQuery: { type: 'object' as const, properties: { kind: { type: 'string', enum: ['rebuild', 'replay'] }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } } },
  operationsResponse: { type: 'object', required: ['rows'], properties: { rows: { type: 'array', items: operationSchema } } },
  operation: operationSchema,
  idParam: { type: 'object' as const, required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } },
  deadLettersQuery: {
    type: 'object' as const,
    properties: { stage: { type: 'string', enum: ['ingest', 'projector'] }, code: { type: 'string', pattern: '^[a-z_]+$' }, before: { type: 'integer', minimum: 1, description: 'page backwards: only letters with a smaller sequence' }, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 } },
  },
  deadLettersResponse: {
    type: 'object',
    required: ['rows', 'total'],
    properties: {
      total: { type: 'integer' },
      counts: { type: 'object', additionalProperties: { type: 'integer' } },
      rows: {
        type: 'array',
        items: {
          type: 'object',
          required: ['seq', 'stage', 'code', 'reason', 'receivedAt', 'size'],
          properties: {
            seq: { type: 'integer' }, stage: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' }, receivedAt: { type: 'string' }, size: { type: 'integer' },
            eventId: { type: ['string', 'null'] }, eventType: { type: ['string', 'null'] }, eventSource: { type: ['string', 'null'] }, producer: { type: ['string', 'null'] },
            resubmittedAt: { type: ['string', 'null'] },
          },
        },
      },
    },
  },
  deadLetterResponse: {
    type: 'object',
    required: ['seq', 'stage', 'code', 'reason', 'headers', 'body'],
    properties: { seq: { type: 'integer' }, stage: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' }, errors: { type: ['array', 'null'] }, headers: { type: 'object' }, body: { type: 'string', description: 'the original bytes (UTF-8)' }, resubmissions: { type: 'array' } },
  },
  resubmitBody: {
    type: 'object' as const,
    properties: { seqs: { type: 'array', items: { type: 'integer', minimum: 1 }, maxItems: 1000 }, all: { type: 'boolean' }, code: { type: 'string' }, stage: { type: 'string', enum: ['ingest', 'projector'] } },
  },
  resubmitResponse: {
    type: 'object',
    required: ['resubmitted', 'accepted', 'rejected', 'results'],
    properties: {
      resubmitted: { type: 'integer' }, accepted: { type: 'integer' }, rejected: { type: 'integer' },
      results: { type: 'array', items: { type: 'object', required: ['seq', 'accepted', 'rejected'], properties: { seq: { type: 'integer' }, accepted: { type: 'integer' }, rejected: { type: 'integer' }, reasons: { type: 'array', items: { type: 'string' } } } } },
    },
  },
  projectionsResponse: { type: 'object', required: ['at', 'projections', 'partitions', 'deadLetters'], properties: { at: iso, projections: { type: 'array' }, partitions: { type: 'array' }, deadLetters: { type: 'object' } } },
};
