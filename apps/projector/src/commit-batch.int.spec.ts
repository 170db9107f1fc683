import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseEvent, PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { at, orderPlaced, pageViewed, productViewed, recentMinute, sessionStarted, useClock } from '@pulse/contracts/testing';
import pg from 'pg';
import { migratedDatabase, testPool } from '../../../test/support/database.js';
import { readModel } from '../../../test/support/projector.js';
import { isolatedNats } from '../../../test/support/services.js';
import { commitBatch, FencedOut, flushRollups, type PipelineContext } from './commit-batch.js';
import { storedMessage, type StoredMessage } from './decode.js';
import { DeferredRollups } from './deferred-rollups.js';
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
    pool = testPool(db.url, 2);
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

  /** Publishes each group of events; resolves to each group's messages as delivered. */
  async function published(groups: PulseEvent[][]): Promise<StoredMessage[][]> {
    const producer = new PulseProducer(jetstream(nc), { names });
    const sizes: number[] = [];
    for (const group of groups) sizes.push((await producer.publishValidated(group)).messages);
    const count = sizes.reduce((a, b) => a + b, 0);
    const messages = (await delivered(taken + count)).slice(taken);
    taken += count;
    return sizes.map((size) => messages.splice(0, size));
  }

  /** Commits each batch with its own context, in order, on one connection. */
  async function commitEach(batches: Array<[PipelineContext, StoredMessage[]]>): Promise<void> {
    const client = await pool.connect();
    try {
      for (const [ctx, messages] of batches) await commitBatch(client, ctx, messages, new Date());
    } finally {
      client.release();
    }
  }

  /** Publishes each group of events, then commits the messages of each group as one batch. */
  async function commitInBatches(ctx: PipelineContext, groups: PulseEvent[][]): Promise<void> {
    await commitEach((await published(groups)).map((m) => [ctx, m]));
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

  describe('with roll-ups held back while busy (plain PostgreSQL)', () => {
    const HOUR = 3_600_000;
    // Orders either side of an hour boundary, so a batch touches two hours (and maybe two days).
    const boundary = new Date((Math.floor(Date.now() / HOUR) - 1) * HOUR).toISOString();
    let n = 0;
    const orders = (count: number) => Array.from({ length: count }, (_, i) => orderPlaced({ id: `r-${n++}`, time: at(i % 2 ? -600 - i : 600 + i, boundary), data: { totalMinor: 100 + i } }));
    const busy = (held: DeferredRollups, defer = true, extra: Partial<PipelineContext> = {}) => context({ rollups: { held, defer }, ...extra });

    /** Hourly and daily rows of a version that differ from the sums of its minutes, per partition. */
    const lagging = async (schema = 'rm_sales_v1') =>
      (
        await pool.query(
          `SELECT g, bucket, metric, dim_key, partition, r.value AS rolled, m.value AS minutes
           FROM (SELECT 'hour' AS g, bucket, metric, dim_key, partition, value, events, late_events, late_value FROM ${schema}.facts_1h
                 UNION ALL SELECT 'day', bucket, metric, dim_key, partition, value, events, late_events, late_value FROM ${schema}.facts_1d) r
           FULL JOIN (SELECT g, date_trunc(g, bucket, 'UTC') AS bucket, metric, dim_key, partition, sum(value) AS value, sum(events) AS events, sum(late_events) AS late_events, sum(late_value) AS late_value
                      FROM ${schema}.facts_1m CROSS JOIN (VALUES ('hour'), ('day')) AS grains(g) GROUP BY 1, 2, 3, 4, 5) m USING (g, bucket, metric, dim_key, partition)
           WHERE (r.value, r.events, r.late_events, r.late_value) IS DISTINCT FROM (m.value, m.events, m.late_events, m.late_value)`,
        )
      ).rows;
    const listedHours = async () => (await pool.query(`SELECT rollup_hours FROM pulse.checkpoints WHERE pipeline = $1 AND partition = 0`, [LIVE])).rows[0].rollup_hours as number[];

    it('hold them in memory and list their hours, then write them summed with the next batch that does not hold', async () => {
      const held = new DeferredRollups(60_000);
      const [first, second, third, fourth] = await published([orders(10), orders(10), orders(10), orders(10)]);

      // The first batch after a start writes (nothing to recompute yet); the next two hold theirs.
      await commitEach([[busy(held), first], [busy(held), second], [busy(held), third]]);
      expect(await model.total('sales', 'orders', '1m')).toBe(30);
      expect(await model.total('sales', 'orders', '1h')).toBe(10);
      expect(await model.total('sales', 'orders', '1d')).toBe(10);
      expect((await listedHours()).map((h) => h * HOUR)).toEqual([Date.parse(boundary) - HOUR, Date.parse(boundary)]);

      await commitEach([[busy(held, false), fourth]]);
      expect(await model.total('sales', 'orders', '1h')).toBe(40);
      expect(await lagging()).toEqual([]);
      expect(await listedHours()).toEqual([]);
    });

    it('after a crash, recompute the listed hours from the minutes: in the next batch, or when the partition is idle', async () => {
      const [a, b, c, d] = await published([orders(10), orders(10), orders(10), orders(10)]);
      const dying = new DeferredRollups(60_000);
      await commitEach([[busy(dying), a], [busy(dying), b]]);
      expect(await lagging()).not.toEqual([]);

      // A new process: it knows nothing held, so its first batch recomputes instead of holding.
      const next = new DeferredRollups(60_000);
      await commitEach([[busy(next), c]]);
      expect(await lagging()).toEqual([]);
      expect(await model.total('sales', 'orders', '1h')).toBe(30);

      await commitEach([[busy(next), d]]);
      const idle = new DeferredRollups(60_000);
      const client = await pool.connect();
      const flushed = await flushRollups(client, busy(idle), 0, new Date()).finally(() => client.release());
      expect(await lagging()).toEqual([]);
      expect(await model.total('sales', 'orders', '1h')).toBe(40);
      expect(await model.total('sales', 'orders', '1d')).toBe(40);
      expect(await listedHours()).toEqual([]);
      // The console is told: the rewritten hours count as touched, by their first minute.
      expect(flushed.revision).not.toBeNull();
      expect(flushed.applied.find((x) => x.projection === 'sales')?.changes.touched).toEqual(
        expect.arrayContaining([{ grain: '1m', metric: 'orders', bucketMs: Date.parse(boundary) - HOUR }, { grain: '1m', metric: 'orders', bucketMs: Date.parse(boundary) }]),
      );
    });

    it('forget what they held when a commit fails, and recompute rather than write it twice', async () => {
      const held = new DeferredRollups(60_000);
      const [a, b, c, d] = await published([orders(10), orders(10), orders(10), orders(10)]);
      await commitEach([[busy(held), a], [busy(held), b]]);
      await expect(commitEach([[busy(held, false, { fences: new Map([[0, { owner: 'someone-else', epoch: 99 }]]) }), c]])).rejects.toThrow(FencedOut);
      expect(held.recovering).toBe(true);

      await commitEach([[busy(held), c], [busy(held, false), d]]);

      expect(await lagging()).toEqual([]);
      expect(await model.total('sales', 'orders', '1h')).toBe(40);
    });

    it('never hold the roll-ups of a version being built, which a rebuild lane may be writing too', async () => {
      await pool.query(`SELECT pulse.create_read_model('sales', 2)`);
      await pool.query(`INSERT INTO pulse.projection_versions (projection, version, status, allowed_lateness_ms) VALUES ('sales', 2, 'building', 10000)`);
      await pool.query(`INSERT INTO pulse.feeds (pipeline, projection, version, partition, after_seq) VALUES ($1, 'sales', 2, 0, 0)`, [LIVE]);
      const held = new DeferredRollups(60_000);
      const [a, b, c] = await published([orders(10), orders(10), orders(10)]);

      await commitEach([[busy(held), a], [busy(held), b], [busy(held), c]]);

      expect(await lagging('rm_sales_v2')).toEqual([]);
      expect(await lagging('rm_sales_v1')).not.toEqual([]);
    });
  });
});
