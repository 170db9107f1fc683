import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig, type StreamInfo } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { PulseNames } from '../subjects.js';

export interface StreamOptions {
  /** How long the event store keeps events (it is the source of every rebuild). Default 30 days. */
  maxAgeSeconds?: number;
  /** Size cap of the event store in bytes; -1 (default) for none. Oldest events go first. */
  maxBytes?: number;
  /** JetStream's de-duplication window for Nats-Msg-Id (retried publishes). Default 10 minutes. */
  duplicateWindowSeconds?: number;
  /** Dead letters are kept longer than events: someone has to look at them. Default 90 days. */
  deadLetterMaxAgeSeconds?: number;
  /** Largest message the producer sends; also the stream's per-message cap. Default 1 MiB (nats-server's default max_payload). */
  maxMessageBytes?: number;
  /** Copies of each stream across a NATS cluster (1 on a single server, 3 in the production layout). */
  replicas?: number;
}

function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  return jsm.streams.info(name).catch(() => undefined);
}

async function upsertStream(jsm: JetStreamManager, existing: StreamInfo | undefined, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  if (existing) await jsm.streams.update(config.name, config);
  else await jsm.streams.add(config);
}

/** Thrown when the configured partitions would leave some of the event store's partitions unread. */
export class PartitionCountMismatch extends Error {
  constructor(stream: string, stored: number, configured: number) {
    super(
      `stream ${stream} has ${stored} partitions but this process is configured with ${configured} (PULSE_PARTITIONS): ` +
        `partitions ${configured}..${stored - 1} would be neither written nor read. The count is fixed when the stream is created; set PULSE_PARTITIONS=${stored}.`,
    );
    this.name = 'PartitionCountMismatch';
  }
}

/** Partitions an existing events stream has, from its subjects (`<root>.events.*.*.*.<p>`). */
function storedPartitions(subjects: readonly string[] | undefined, names: PulseNames): number {
  const prefix = `${names.root}.events.*.*.*.`;
  const numbers = (subjects ?? []).filter((s) => s.startsWith(prefix)).map((s) => Number(s.slice(prefix.length)));
  return numbers.length ? Math.max(...numbers) + 1 : 0;
}

/**
 * Creates or updates Pulse's streams. Safe to call at every start of every process: the
 * configuration converges to the options given, except that an event store is never narrowed to
 * fewer partitions (that would strand the events of the others; PartitionCountMismatch says so).
 */
export async function ensureStreams(jsm: JetStreamManager, names: PulseNames, options: StreamOptions = {}): Promise<void> {
  const seconds = (s: number) => nanos(s * 1000);
  const existing = await streamInfo(jsm, names.eventsStream);
  const stored = storedPartitions(existing?.config.subjects, names);
  if (stored > names.partitions) throw new PartitionCountMismatch(names.eventsStream, stored, names.partitions);
  await upsertStream(jsm, existing, {
    name: names.eventsStream,
    subjects: names.eventSubjects(),
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: seconds(options.maxAgeSeconds ?? 30 * 24 * 3600),
    max_bytes: options.maxBytes ?? -1,
    max_msg_size: options.maxMessageBytes ?? 1024 * 1024,
    duplicate_window: seconds(options.duplicateWindowSeconds ?? 600),
    num_replicas: options.replicas ?? 1,
  });
  await upsertStream(jsm, await streamInfo(jsm, names.deadLetterStream), {
    name: names.deadLetterStream,
    num_replicas: options.replicas ?? 1,
    subjects: [names.deadLetters()],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: seconds(options.deadLetterMaxAgeSeconds ?? 90 * 24 * 3600),
    duplicate_window: seconds(options.duplicateWindowSeconds ?? 600),
  });
}
