import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';

export interface StoredMessage {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  body: string;
}

/** Every message a stream holds now, read with an ordered consumer. */
export async function readStream(nc: NatsConnection, stream: string): Promise<StoredMessage[]> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const total = info.state.messages;
  if (total === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: StoredMessage[] = [];
  const messages = await consumer.consume();
  for await (const m of messages) {
    const headers: Record<string, string> = {};
    for (const [k, v] of m.headers ?? []) headers[k] = v[0];
    out.push({ seq: m.seq, subject: m.subject, headers, body: m.string() });
    if (out.length >= total) break;
  }
  await messages.close();
  return out;
}

/** The events a stream holds, each batch message flattened. */
export async function storedEvents(nc: NatsConnection, stream: string): Promise<Array<Record<string, unknown>>> {
  return (await readStream(nc, stream)).flatMap((m) => {
    const parsed = JSON.parse(m.body) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
  });
}
