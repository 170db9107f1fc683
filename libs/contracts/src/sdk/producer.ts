import { createHash } from 'node:crypto';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { checkEvents, groupByType, type RejectedEvent } from '../batch.js';
import type { EventType } from '../catalog.js';
import { CLOUDEVENTS_BATCH_JSON } from '../envelope.js';
import { PulseNames } from '../subjects.js';
import type { PulseEvent } from '../types.js';

export interface ProducerOptions {
  names?: PulseNames;
  /** Publishes awaiting a JetStream ack at once; bounds memory and keeps the server fed. */
  maxInFlight?: number;
  /** Events per stream message. Batching is what makes JetStream fast: its cost is per message. */
  maxEventsPerMessage?: number;
  /** Bytes per stream message; must stay under nats-server's max_payload (1 MiB by default). */
  maxMessageBytes?: number;
}

export interface PublishReport {
  events: number;
  messages: number;
  /** Messages JetStream recognised as retries of one already stored (same Nats-Msg-Id). */
  duplicateMessages: number;
  /** Stream sequence of each stored message (for latency tracking and tests). */
  sequences: number[];
}

/** Thrown before anything is published when some events break their contract. */
export class EventValidationError extends Error {
  constructor(readonly failures: RejectedEvent[], total: number) {
    const shown = failures
      .slice(0, 5)
      .map((f) => `#${f.index}${f.id ? ` (id ${f.id}${f.type ? `, ${f.type}` : ''})` : ''}: ${f.rejection.reason}`)
      .join('\n  ');
    super(`${failures.length} of ${total} events break their contract; nothing was published:\n  ${shown}${failures.length > 5 ? `\n  and ${failures.length - 5} more` : ''}`);
    this.name = 'EventValidationError';
  }
}

const encoder = new TextEncoder();

interface Chunk {
  type: EventType;
  events: PulseEvent[];
  body: Uint8Array;
}

/**
 * Splits events of one type into stream messages under both caps. A JSON array is built once per
 * message from the events' own serialisations, so nothing is stringified twice.
 */
function chunk(type: EventType, events: readonly PulseEvent[], maxEvents: number, maxBytes: number): Chunk[] {
  const chunks: Chunk[] = [];
  let parts: string[] = [];
  let members: PulseEvent[] = [];
  let bytes = 2;
  const flush = () => {
    if (!members.length) return;
    chunks.push({ type, events: members, body: encoder.encode(`[${parts.join(',')}]`) });
    parts = [];
    members = [];
    bytes = 2;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = Buffer.byteLength(json) + 1;
    if (size + 2 > maxBytes) throw new Error(`event ${event.id} (${size} bytes) is larger than a stream message may be (${maxBytes})`);
    if (members.length >= maxEvents || bytes + size > maxBytes) flush();
    parts.push(json);
    members.push(event);
    bytes += size;
  }
  flush();
  return chunks;
}

/**
 * Message identity for JetStream's duplicate window: a retried publish of the same events yields the
 * same id, so the server stores it once. The partition comes from the same hash, so a retry also
 * lands on the same subject.
 */
function identify(events: readonly PulseEvent[]): { msgID: string; bucket: number } {
  const hash = createHash('sha1');
  for (const e of events) hash.update(e.source).update('\u0000').update(e.id).update('\n');
  const digest = hash.digest();
  return { msgID: digest.toString('base64url'), bucket: digest.readUInt32BE(0) };
}

/**
 * The producer SDK: validates every event against its contract, groups events by type into batch
 * messages, and publishes them asynchronously with a bounded number of acks in flight.
 */
export class PulseProducer {
  readonly names: PulseNames;
  private readonly maxInFlight: number;
  private readonly maxEvents: number;
  private readonly maxBytes: number;

  constructor(
    private readonly js: JetStreamClient,
    options: ProducerOptions = {},
    private readonly ownConnection?: NatsConnection,
  ) {
    this.names = options.names ?? new PulseNames();
    this.maxInFlight = options.maxInFlight ?? 64;
    this.maxEvents = options.maxEventsPerMessage ?? 500;
    this.maxBytes = options.maxMessageBytes ?? 900 * 1024;
  }

  static async connect(servers: string | string[], options: ProducerOptions = {}): Promise<PulseProducer> {
    // noAsyncTraces: building async stack traces costs a third of publish CPU (measured).
    const nc = await connect({ servers, name: 'pulse-producer', noAsyncTraces: true, maxReconnectAttempts: -1 });
    return new PulseProducer(jetstream(nc), options, nc);
  }

  /** Validates all events, then publishes them. Throws EventValidationError (publishing nothing) if any is invalid. */
  async publish(events: unknown): Promise<PublishReport> {
    const total = Array.isArray(events) ? events.length : 1;
    const { accepted, rejected } = checkEvents(events);
    if (rejected.length) throw new EventValidationError(rejected, total);
    return this.publishValidated(accepted);
  }

  /** Publishes events already validated by the caller (the ingestion endpoint validates once, here not again). */
  async publishValidated(events: readonly PulseEvent[], headers: Record<string, string> = {}): Promise<PublishReport> {
    const chunks: Chunk[] = [];
    for (const [type, group] of groupByType(events)) chunks.push(...chunk(type, group, this.maxEvents, this.maxBytes));
    const report: PublishReport = { events: events.length, messages: chunks.length, duplicateMessages: 0, sequences: new Array(chunks.length) };
    let next = 0;
    const worker = async () => {
      while (next < chunks.length) {
        const index = next++;
        const c = chunks[index];
        const { msgID, bucket } = identify(c.events);
        const h = natsHeaders();
        h.set('Content-Type', CLOUDEVENTS_BATCH_JSON);
        for (const [k, v] of Object.entries(headers)) h.set(k, v);
        const ack = await this.js.publish(this.names.eventSubject(c.type, bucket % this.names.partitions), c.body, { msgID, headers: h });
        if (ack.duplicate) report.duplicateMessages++;
        report.sequences[index] = ack.seq;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.maxInFlight, chunks.length) }, worker));
    return report;
  }

  async close(): Promise<void> {
    await this.ownConnection?.drain();
  }
}
