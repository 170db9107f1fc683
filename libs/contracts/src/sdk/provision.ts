import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
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

async function upsertStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  const existing = await jsm.streams.info(config.name).catch(() => undefined);
  if (existing) await jsm.streams.update(config.name, config);
  else await jsm.streams.add(config);
}

/**
 * Creates or updates Pulse's streams. Safe to call at every start of every process: the
 * configuration converges to the options given.
 */
export async function ensureStreams(jsm: JetStreamManager, names: PulseNames, options: StreamOptions = {}): Promise<void> {
  const seconds = (s: number) => nanos(s * 1000);
  await upsertStream(jsm, {
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
  await upsertStream(jsm, {
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
