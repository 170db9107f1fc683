import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseEvent, PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { at, orderPlaced, pageViewed, productViewed, recentMinute, sessionStarted, useClock } from '@pulse/contracts/testing';
import pg from 'pg';
import { migratedDatabase } from '../../../test/support/database.js';
import { readModel } from '../../../test/support/projector.js';
import { isolatedNats } from '../../../test/support/services.js';
import { commitBatch, FencedOut, type PipelineContext } from './commit-batch.js';
import { storedMessage, type StoredMessage } from './decode.js';
import { Identities, liveIdentityStore } from './identities.js';
import { KnownSessions } from './known-sessions.js';
import { ensureLiveVersions, LIVE } from './read-models.js';

describe('committing a batch against real NATS and PostgreSQL', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: pg.Pool;
  let model: ReturnType<typeof readModel>;
  /** Messages the test has already taken from the stream. */
  let taken: number;

  beforeEach(async () => {
    useClock(recentMinute(30));
    ({ names, nc, dispose: disposeNats } = await isolatedNats(1));
    await ensureStreams(await jetstreamManager(nc), names);
    db = await migratedDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    await ensureLiveVersions(pool, names.partitions, 10_000);
    model = readModel(db.url);
    taken = 0;
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

  const context = (extra: Partial<PipelineContext> = {}): PipelineContext => ({
    pipeline: LIVE,
    identities: new Identities(liveIdentityStore({ secondsFromMs: 0, blocksFromMs: 0 })),
    names,
    js: jetstream(nc),
    limits: { maxFutureSkewMs: 300_000, horizonMs: 7 * 86_400_000 },
    timescale: false,
    decisions: 'decide',
    ...extra,
  });

  /** Publishes each group of events, then commits the messages of each group as one batch. */
  async function commitInBatches(ctx: PipelineContext, groups: PulseEvent[][]): Promise<void> {
    const producer = new PulseProducer(jetstream(nc), { names });
    const sizes: number[] = [];
    for (const group of groups) sizes.push((await producer.publishValidated(group)).messages);
    const count = sizes.reduce((a, b) => a + b, 0);
    const messages = (await delivered(taken + count)).slice(taken);
    taken += count;
    const client = await pool.connect();
    try {
      for (const size of sizes) await commitBatch(client, ctx, messages.splice(0, size), new Date());
    } finally {
      client.release();
    }
  }

  const sessionRows = async () =>
    (await pool.query(`SELECT session_id, first_seen, last_seen, channel, country FROM rm_traffic_v1.sessions ORDER BY session_id`)).rows.map((r) => ({ ...r, first_seen: r.first_seen.toISOString(), last_seen: r.last_seen.toISOString() }));

  it('writes only the session touches that can move a row, and ends with the rows every touch written would give', async () => {
    const batches = [
      [sessionStarted({ id: 'a1', time: at(1), data: { sessionId: 's-1' } }), pageViewed({ id: 'b1', time: at(2), data: { sessionId: 's-2' } })],
      // Same 15 s step as before for s-1 (nothing to write); s-2's next step; s-1's first touch comes late, earlier.
      [pageViewed({ id: 'a2', time: at(9), data: { sessionId: 's-1' } }), productViewed({ id: 'b2', time: at(16), data: { sessionId: 's-2' } })],
      [pageViewed({ id: 'a3', time: at(-3), data: { sessionId: 's-1' } }), sessionStarted({ id: 'b3', time: at(17), data: { sessionId: 's-2', channel: 'app', country: 'FR' } })],
      [pageViewed({ id: 'a4', time: at(31), data: { sessionId: 's-1' } })],
    ];
    const withCache = context({ sessions: new KnownSessions() });

    await commitInBatches(withCache, batches);

    expect(await sessionRows()).toEqual([
      { session_id: 's-1', first_seen: at(-3), last_seen: at(30), channel: 'web', country: 'DE' },
      { session_id: 's-2', first_seen: at(2), last_seen: at(15), channel: 'app', country: 'FR' },
    ]);
  });

  it('forgets the session rows it knew when a commit fails, so a row lost with the connection is written again', async () => {
    const known = new KnownSessions();
    await commitInBatches(context({ sessions: known }), [[pageViewed({ id: 'a1', time: at(1), data: { sessionId: 's-1' } })]]);
    // An asynchronous commit lost in a database crash: the row is gone, and the next statement fails.
    await pool.query(`DELETE FROM rm_traffic_v1.sessions`);
    await expect(commitInBatches(context({ sessions: known, fences: new Map([[0, { owner: 'someone-else', epoch: 99 }]]) }), [[pageViewed({ id: 'a2', time: at(2), data: { sessionId: 's-1' } })]])).rejects.toThrow(FencedOut);

    await commitInBatches(context({ sessions: known }), [[pageViewed({ id: 'a3', time: at(3), data: { sessionId: 's-1' } })]]);

    expect(await sessionRows()).toEqual([{ session_id: 's-1', first_seen: at(3), last_seen: at(0), channel: null, country: null }]);
  });

  it('counts a message JetStream redelivered into the same batch once, and records none of its events as skipped', async () => {
    const orders = Array.from({ length: 3 }, (_, i) => orderPlaced({ id: `o-${i}`, time: at(i), data: { totalMinor: 100 } }));
    await new PulseProducer(jetstream(nc), { names }).publishValidated(orders);
    const [message] = await delivered(1);
    const ctx = context();

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
