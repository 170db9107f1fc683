import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { at, orderPlaced, recentMinute, useClock } from '@pulse/contracts/testing';
import pg from 'pg';
import { migratedDatabase } from '../../../test/support/database.js';
import { readModel } from '../../../test/support/projector.js';
import { isolatedNats } from '../../../test/support/services.js';
import { commitBatch, type PipelineContext } from './commit-batch.js';
import { storedMessage, type StoredMessage } from './decode.js';
import { ensureLiveVersions, LIVE } from './read-models.js';

describe('committing a batch against real NATS and PostgreSQL', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: pg.Pool;
  let model: ReturnType<typeof readModel>;

  beforeEach(async () => {
    useClock(recentMinute(30));
    ({ names, nc, dispose: disposeNats } = await isolatedNats(1));
    await ensureStreams(await jetstreamManager(nc), names);
    db = await migratedDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await ensureLiveVersions(pool, names.partitions, 10_000);
    model = readModel(db.url);
  });
  afterEach(async () => {
    await model.close();
    await pool.end();
    await db.dispose();
    await disposeNats();
  });

  /** The stream's messages as a consumer delivers them. */
  async function delivered(count: number): Promise<StoredMessage[]> {
    const consumer = await jetstream(nc).consumers.get(names.eventsStream, { deliver_policy: DeliverPolicy.All });
    const out: StoredMessage[] = [];
    for await (const m of await consumer.fetch({ max_messages: count, expires: 5000 })) out.push(storedMessage(m));
    return out;
  }

  it('counts a message JetStream redelivered into the same batch once, and records none of its events as skipped', async () => {
    const orders = Array.from({ length: 3 }, (_, i) => orderPlaced({ id: `o-${i}`, time: at(i), data: { totalMinor: 100 } }));
    await new PulseProducer(jetstream(nc), { names }).publishValidated(orders);
    const [message] = await delivered(1);
    const ctx: PipelineContext = { pipeline: LIVE, seenTable: 'pulse.seen_events', names, js: jetstream(nc), limits: { maxFutureSkewMs: 300_000, horizonMs: 7 * 86_400_000 }, timescale: false, decisions: 'decide' };

    // Its ack wait passed while it waited in the worker's queue: the redelivered copy joins the same batch.
    const client = await pool.connect();
    const result = await commitBatch(client, ctx, [message, { ...message }], new Date()).finally(() => client.release());

    expect(result).toMatchObject({ events: 3, duplicates: 0, skipped: 1 });
    expect(await model.total('sales', 'orders')).toBe(3);
    expect(await model.total('sales', 'revenue')).toBe(300);
    // A rebuild follows these records: a position recorded here would be left out of every rebuilt version.
    expect((await pool.query(`SELECT * FROM pulse.skipped_events`)).rows).toEqual([]);
    expect((await pool.query(`SELECT messages, events, duplicates FROM pulse.checkpoints WHERE pipeline = $1`, [LIVE])).rows).toEqual([{ messages: '1', events: '3', duplicates: '0' }]);
  });
});
