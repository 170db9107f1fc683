import { eventTypes } from './catalog.js';

/** Media types Pulse accepts, after the CloudEvents JSON format and its batch format. */
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';
export const CLOUDEVENTS_BATCH_JSON = 'application/cloudevents-batch+json';

const CORE_ATTRIBUTES = ['specversion', 'id', 'source', 'type', 'time', 'dataversion', 'datacontenttype', 'dataschema', 'subject', 'traceparent', 'tracestate', 'data'];

/**
 * The CloudEvents 1.0 structured JSON envelope as Pulse requires it. `source` + `id` is the
 * event's identity for de-duplication everywhere; `time` is when it happened (event time, which
 * every read model buckets by); `dataversion` names the version of the data schema of `type`.
 */
export const envelopeSchema = {
  $id: 'https://schemas.pulse.dev/cloudevent/1',
  title: 'Pulse CloudEvent envelope',
  type: 'object',
  required: ['specversion', 'id', 'source', 'type', 'time', 'dataversion', 'data'],
  properties: {
    specversion: { const: '1.0' },
    id: { type: 'string', minLength: 1, maxLength: 128 },
    source: { type: 'string', minLength: 1, maxLength: 256, pattern: '^\\S+$' },
    type: { type: 'string', enum: eventTypes },
    time: { type: 'string', format: 'date-time', maxLength: 40 },
    dataversion: { type: 'integer', minimum: 1, maximum: 1000 },
    datacontenttype: { const: 'application/json' },
    dataschema: { type: 'string', format: 'uri', maxLength: 512 },
    subject: { type: 'string', maxLength: 256 },
    traceparent: { type: 'string', maxLength: 128 },
    tracestate: { type: 'string', maxLength: 512 },
    data: { type: 'object' },
  },
  // CloudEvents extension attributes are allowed (lower-case alphanumeric names, scalar values);
  // anything else is a typo that would otherwise be silently ignored.
  patternProperties: { [`^(?!(${CORE_ATTRIBUTES.join('|')})$)[a-z0-9]{1,20}$`]: { type: ['string', 'integer', 'boolean'] } },
  additionalProperties: false,
} as const;
