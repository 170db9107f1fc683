import { eventCatalog, type EventType } from './catalog.js';

export const DEFAULT_ROOT = 'pulse';
/**
 * Partitions of a new event store. Each partition is one ordered sequence, one projector worker and
 * its own read-model rows, so every partition costs a worker's per-batch work and its own rows of every
 * roll-up and session: more partitions than projector cores buys no parallelism and costs CPU. Two
 * suits one 2-core machine (measured against 4 and 1 in bench/README.md); a cluster sets its own
 * count (docker-compose.yml: 8), fixed when the stream is created.
 */
export const DEFAULT_PARTITIONS = 2;

/**
 * Identity buckets: a fixed split of event identities, finer than any partition count. An event's
 * partition is its bucket modulo the partition count, so each bucket has one partition (one writer)
 * whatever the count, and the projector keeps the identities it has counted per bucket (ADR 0004).
 */
export const IDENTITY_BUCKETS = 256;

/** Bucket of an event, from a hash of its identity: every copy of an event has the same one. */
export function identityBucketOf(source: string, id: string): number {
  // FNV-1a over source, a NUL and id: cheap, stable across processes and languages. Fed part by part,
  // so no joined string is built per event (the API and the projector both call this per event).
  return (fnv1a(fnv1a(fnv1a(0x811c9dc5, source), '\u0000'), id) >>> 0) % IDENTITY_BUCKETS;
}

function fnv1a(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/**
 * Every NATS name Pulse uses, derived from one root token (`pulse` in production; tests use their
 * own root so their streams and subjects never overlap).
 *
 * Event store: stream PULSE_EVENTS, one message per batch of events of one type, on
 *   <root>.events.<domain>.<type>.<partition>      e.g. pulse.events.orders.order.placed.2
 * (the type contributes two tokens). Downstream teams filter by domain (`pulse.events.orders.>`) or
 * type (`pulse.events.orders.order.placed.*`); projector partition p reads `pulse.events.*.*.*.p`.
 * The stream lists the partitions it has, so a producer configured with too many partitions gets an
 * error instead of writing where no projector reads.
 */
export class PulseNames {
  readonly eventsStream: string;
  readonly deadLetterStream: string;

  constructor(
    readonly root: string = DEFAULT_ROOT,
    readonly partitions: number = DEFAULT_PARTITIONS,
  ) {
    if (!/^[a-z][a-z0-9_-]*$/.test(root)) throw new Error(`NATS root "${root}" must be one lower-case token`);
    if (!Number.isInteger(partitions) || partitions < 1 || partitions > IDENTITY_BUCKETS) throw new Error(`partitions must be 1..${IDENTITY_BUCKETS}, got ${partitions}`);
    const upper = root.toUpperCase().replace(/-/g, '_');
    this.eventsStream = `${upper}_EVENTS`;
    this.deadLetterStream = `${upper}_DLQ`;
  }

  eventSubject(type: EventType, partition: number): string {
    return `${this.root}.events.${eventCatalog[type].domain}.${type}.${partition}`;
  }

  partitionFilter(partition: number): string {
    return `${this.root}.events.*.*.*.${partition}`;
  }

  eventSubjects(): string[] {
    return Array.from({ length: this.partitions }, (_, p) => this.partitionFilter(p));
  }

  allEvents(): string {
    return `${this.root}.events.>`;
  }

  deadLetterSubject(stage: DeadLetterStage, code: string): string {
    return `${this.root}.dlq.${stage}.${code}`;
  }

  deadLetters(): string {
    return `${this.root}.dlq.>`;
  }

  /** Read-model change notifications, published by the projector after each commit. */
  changesSubject(projection: string): string {
    return `${this.root}.changes.${projection}`;
  }

  allChanges(): string {
    return `${this.root}.changes.>`;
  }

  /** Admin commands (request/reply), e.g. `pulse.admin.rebuild`. */
  adminSubject(command: string): string {
    return `${this.root}.admin.${command}`;
  }

  /** Progress and outcome of long-running admin operations, e.g. `pulse.operations.rebuild.42`. */
  operationSubject(kind: string, id: string | number): string {
    return `${this.root}.operations.${kind}.${id}`;
  }
}

/** Partition token of an event subject, or -1 when the subject is not one. */
export function partitionOf(subject: string): number {
  const p = Number(subject.slice(subject.lastIndexOf('.') + 1));
  return Number.isInteger(p) ? p : -1;
}

export type DeadLetterStage = 'ingest' | 'projector';

/** Headers on dead-letter messages. The body is always the original bytes. */
export const DeadLetterHeaders = {
  Stage: 'Pulse-Stage',
  Code: 'Pulse-Reason-Code',
  Reason: 'Pulse-Reason',
  Errors: 'Pulse-Errors',
  EventId: 'Pulse-Event-Id',
  EventSource: 'Pulse-Event-Source',
  EventType: 'Pulse-Event-Type',
  BatchIndex: 'Pulse-Batch-Index',
  OriginalSubject: 'Pulse-Original-Subject',
  OriginalSequence: 'Pulse-Original-Sequence',
  ReceivedAt: 'Pulse-Received-At',
  Producer: 'Pulse-Producer',
  Truncated: 'Pulse-Truncated-From-Bytes',
  Resubmitted: 'Pulse-Resubmitted-From',
} as const;
