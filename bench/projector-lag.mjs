// How far the projector is behind the event store: JetStream's own count of messages not yet
// delivered (num_pending) or delivered and not yet acked (num_ack_pending) on each partition's
// durable consumer. The projector acks only after its commit, so this is what is not committed yet.
import pg from 'pg';

export async function pendingMessages(jsm, names, prefix = '') {
  let pending = 0;
  const partitions = [];
  for (let p = 0; p < names.partitions; p++) {
    const info = await jsm.consumers.info(names.eventsStream, `${prefix}live-p${p}`).catch(() => undefined);
    if (!info) {
      partitions.push(undefined);
      continue;
    }
    pending += info.num_pending + info.num_ack_pending;
    partitions.push({ pending: info.num_pending, ackPending: info.num_ack_pending, deliveredSeq: info.delivered.stream_seq, ackFloorSeq: info.ack_floor.stream_seq });
  }
  return { pending, partitions, missing: partitions.some((p) => p === undefined) };
}

/** What the live pipeline's checkpoints say it has committed. */
export async function checkpointTotals(client) {
  const { rows } = await client.query(
    `SELECT partition, stream_seq::bigint AS seq, events::bigint AS events, duplicates::bigint AS duplicates, dead_letters::bigint AS dead_letters, messages::bigint AS messages
     FROM pulse.checkpoints WHERE pipeline = 'live' ORDER BY partition`,
  );
  const sum = (k) => rows.reduce((s, r) => s + Number(r[k]), 0);
  return { partitions: rows.map((r) => ({ partition: r.partition, seq: Number(r.seq) })), events: sum('events'), duplicates: sum('duplicates'), deadLetters: sum('dead_letters'), messages: sum('messages') };
}

/**
 * Samples the lag every second. Lag in events is the pending message count times the events per
 * message the projector has seen so far (messages hold a batch of one event type and partition).
 */
export class LagMonitor {
  constructor(jsm, names, databaseUrl) {
    this.jsm = jsm;
    this.names = names;
    this.databaseUrl = databaseUrl;
    this.samples = [];
  }

  async start(intervalMs = 1000) {
    this.client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'pulse-bench-lag' });
    this.client.on('error', () => undefined);
    await this.client.connect();
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now();
        try {
          await this.sample();
        } catch {
          // a missed sample is a gap in the curve, not a failure
        }
        await new Promise((r) => setTimeout(r, Math.max(1, intervalMs - (Date.now() - started))));
      }
    })();
  }

  async sample() {
    const [{ pending }, committed] = await Promise.all([pendingMessages(this.jsm, this.names), checkpointTotals(this.client)]);
    const eventsPerMessage = committed.messages > 0 ? (committed.events + committed.duplicates + committed.deadLetters) / committed.messages : 1;
    const s = { at: Date.now(), pendingMessages: pending, lagEvents: Math.round(pending * eventsPerMessage), committedEvents: committed.events + committed.duplicates + committed.deadLetters };
    this.samples.push(s);
    return s;
  }

  latest() {
    return this.samples[this.samples.length - 1];
  }

  between(fromMs, toMs) {
    return this.samples.filter((s) => s.at >= fromMs && s.at <= toMs);
  }

  async stop() {
    this.running = false;
    await this.loop;
    await this.client.end().catch(() => undefined);
  }
}
