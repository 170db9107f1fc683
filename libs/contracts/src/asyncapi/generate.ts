import { eventCatalog, eventTypes } from '../catalog.js';
import { CLOUDEVENTS_BATCH_JSON, envelopeSchema } from '../envelope.js';
import { extraChannels } from '../published.js';
import { DeadLetterHeaders, PulseNames } from '../subjects.js';

const PACKAGE_VERSION = '1.0.0';

function withoutId(schema: object): Record<string, unknown> {
  const { $id: _id, ...rest } = schema as Record<string, unknown>;
  return rest;
}

/**
 * The AsyncAPI 3 document of every NATS subject Pulse owns, generated from the same objects that
 * validate events, so it cannot describe a contract that the code does not enforce.
 */
export function generateAsyncApi(): Record<string, unknown> {
  const names = new PulseNames();
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = { CloudEventEnvelope: withoutId(envelopeSchema) };

  for (const type of eventTypes) {
    const def = eventCatalog[type];
    const channelMessages: Record<string, unknown> = {};
    def.versions.forEach((schema, i) => {
      const version = i + 1;
      const key = `${type}.v${version}`;
      schemas[key] = withoutId(schema);
      const event = {
        allOf: [
          { $ref: '#/components/schemas/CloudEventEnvelope' },
          { type: 'object', properties: { type: { const: type }, dataversion: { const: version }, data: { $ref: `#/components/schemas/${key}` } } },
        ],
      };
      messages[key] = {
        name: key,
        title: `${type} v${version}`,
        summary: (schema as { description?: string }).description ?? def.description,
        contentType: CLOUDEVENTS_BATCH_JSON,
        payload: { description: 'One CloudEvent, or a batch (JSON array) of CloudEvents of this type.', oneOf: [event, { type: 'array', items: event }] },
      };
      channelMessages[key] = { $ref: `#/components/messages/${key}` };
    });
    channels[type] = {
      address: `${names.root}.events.${def.domain}.${type}.{partition}`,
      title: type,
      description: `${def.description} Messages carry one event or a batch of events of this type; \`source\` + \`id\` identify an event.`,
      parameters: { partition: { description: 'Partition number, 0..partitions-1: the identity bucket of the events it carries (FNV-1a of source and id, modulo 256) modulo the partition count, so every copy of an event lands in the same partition.' } },
      messages: channelMessages,
    };
    const opName = type.replace(/[._](.)/g, (_, c: string) => c.toUpperCase());
    operations[`publish_${opName}`] = { action: 'send', channel: { $ref: `#/channels/${type}` }, summary: `Producers publish ${type} (through the SDK or POST /api/v1/events).` };
    operations[`consume_${opName}`] = { action: 'receive', channel: { $ref: `#/channels/${type}` }, summary: `The projector and downstream services read ${type} from stream ${names.eventsStream}.` };
  }

  messages.deadLetter = {
    name: 'deadLetter',
    title: 'Dead-lettered event',
    summary: 'An event Pulse could not accept or project: the body is the original bytes, the headers say why.',
    contentType: 'application/octet-stream',
    headers: {
      type: 'object',
      required: [DeadLetterHeaders.Stage, DeadLetterHeaders.Code, DeadLetterHeaders.Reason],
      properties: Object.fromEntries(Object.values(DeadLetterHeaders).map((h) => [h, { type: 'string' }])),
    },
    payload: { type: 'string', description: 'Original bytes of the event (or of the whole body when it was not JSON).' },
  };
  channels.deadLetters = {
    address: `${names.root}.dlq.{stage}.{code}`,
    title: 'Dead letters',
    description: `Stream ${names.deadLetterStream}. stage is ingest or projector; code is the rejection code (malformed_json, invalid_data, ...).`,
    parameters: { stage: { enum: ['ingest', 'projector'] }, code: { description: 'Rejection code.' } },
    messages: { deadLetter: { $ref: '#/components/messages/deadLetter' } },
  };
  operations.receive_deadLetters = { action: 'receive', channel: { $ref: '#/channels/deadLetters' }, summary: 'Admins inspect and re-submit dead letters.' };

  for (const extra of extraChannels) {
    messages[extra.name] = { name: extra.name, title: extra.title, summary: extra.summary, contentType: 'application/json', payload: extra.payload };
    channels[extra.name] = {
      address: extra.address,
      title: extra.title,
      description: extra.summary,
      ...(extra.parameters ? { parameters: extra.parameters } : {}),
      messages: { [extra.name]: { $ref: `#/components/messages/${extra.name}` } },
    };
    operations[`${extra.action}_${extra.name}`] = { action: extra.action, channel: { $ref: `#/channels/${extra.name}` }, summary: extra.operation };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Pulse events',
      version: PACKAGE_VERSION,
      description:
        'Every NATS subject Pulse reads or publishes. Generated from libs/contracts (npm run asyncapi); a test fails when this file is not current.',
    },
    defaultContentType: CLOUDEVENTS_BATCH_JSON,
    servers: { local: { host: 'localhost:4222', protocol: 'nats', description: 'nats-server with JetStream' } },
    channels,
    operations,
    components: { schemas, messages },
  };
}

export function renderAsyncApi(): string {
  return `${JSON.stringify(generateAsyncApi(), null, 2)}\n`;
}
