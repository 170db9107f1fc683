import { identityBucketOf } from '@pulse/contracts';
import { orderPlaced } from '@pulse/contracts/testing';
import pg from 'pg';
import { migratedDatabase, testPool } from '../../../test/support/database.js';
import type { DecodedEvent } from './decode.js';
import { Identities, liveIdentityStore, type IdentityStore } from './identities.js';

const T0 = Date.UTC(2026, 10, 28, 12, 0, 0);
let seq = 0;

/** An event as decoded from the stream: `id` from `source`, dated `second`s after T0. */
function decoded(id: string, second: number, source = 'shop/web'): DecodedEvent {
  const timeMs = T0 + second * 1000;
  return { event: orderPlaced({ id, source, time: new Date(timeMs).toISOString() }), timeMs, arrivedMs: timeMs, seq: ++seq, partition: 0, index: 0 };
}

/** Another id whose identity falls in the same bucket as `id`'s (as it would through another partition count). */
function sameBucket(id: string): string {
  const bucket = identityBucketOf('shop/web', id);
  for (let i = 0; ; i++) if (identityBucketOf('shop/web', `${id}-${i}`) === bucket) return `${id}-${i}`;
}

const ids = (events: readonly DecodedEvent[]) => events.map((e) => e.event.id);

describe('identities kept in blocks, against PostgreSQL', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: pg.Pool;
  const store = liveIdentityStore({ secondsFromMs: 0, blocksFromMs: 0 });

  beforeEach(async () => {
    db = await migratedDatabase();
    pool = testPool(db.url, 4);
  });

  afterEach(async () => {
    await pool.end();
    await db.dispose();
  });

  /** One batch in its own transaction, as commitBatch runs it: remembered on commit, forgotten on failure. */
  async function batch(identities: Identities, events: DecodedEvent[], client?: pg.PoolClient) {
    const c = client ?? (await pool.connect());
    try {
      await c.query('BEGIN');
      const { fresh, duplicates } = await identities.firstOccurrences(c, events);
      await c.query('COMMIT');
      identities.committed();
      return { fresh: ids(fresh), duplicates: ids(duplicates) };
    } catch (e) {
      await c.query('ROLLBACK');
      identities.forget();
      throw e;
    } finally {
      if (!client) c.release();
    }
  }

  it('counts the first occurrence of each identity, within a batch and across batches, in stream order', async () => {
    const identities = new Identities(store);
    expect(await batch(identities, [decoded('a', 0), decoded('b', 0), decoded('a', 0), decoded('c', 1)])).toEqual({ fresh: ['a', 'b', 'c'], duplicates: ['a'] });
    expect(await batch(identities, [decoded('d', 1), decoded('b', 0), decoded('c', 1), decoded('e', 2)])).toEqual({ fresh: ['d', 'e'], duplicates: ['b', 'c'] });
    // The same source and id dated another second is another event (ADR 0004), as is the same id from another source.
    expect(await batch(identities, [decoded('a', 5), decoded('a', 0, 'shop/app')])).toEqual({ fresh: ['a', 'a'], duplicates: [] });
    // Within one batch too, by second: copies of 'z' dated 0, 1 and 2 s after T0.
    const z = [decoded('z', 0), decoded('z', 1), decoded('z', 1), decoded('z', 0), decoded('z', 2)];
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { fresh, duplicates } = await identities.firstOccurrences(client, z);
      await client.query('COMMIT');
      identities.committed();
      expect({ fresh, duplicates }).toEqual({ fresh: [z[0], z[1], z[4]], duplicates: [z[2], z[3]] });
    } finally {
      client.release();
    }
  });

  it('finds copies from the stored blocks after a restart, also of events long behind the newest', async () => {
    await batch(new Identities(store), [decoded('old', 0), decoded('new', 600)]);
    const restarted = new Identities(store);
    expect(await batch(restarted, [decoded('new', 600), decoded('next', 601), decoded('old', 0)])).toEqual({ fresh: ['next'], duplicates: ['new', 'old'] });
    // Packed, 12 bytes per identity counted.
    const { rows } = await pool.query<{ bytes: string }>(`SELECT sum(length(hashes)) AS bytes FROM pulse.identity_blocks`);
    expect(Number(rows[0].bytes)).toBe(3 * 12);
  });

  it('counts an event once when two pipelines decide its copies at the same time (routed with another partition count)', async () => {
    const [one, two] = [new Identities(store), new Identities(store)];
    const [c1, c2] = [await pool.connect(), await pool.connect()];
    try {
      await batch(one, [decoded('warm', 0)], c1);
      await c1.query('BEGIN');
      expect(ids((await one.firstOccurrences(c1, [decoded('x', 0)])).fresh)).toEqual(['x']);
      // The other pipeline waits for the bucket until the first commits, then sees its copy.
      let settled = false;
      const other = batch(two, [decoded('x', 0)], c2).finally(() => (settled = true));
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
      await c1.query('COMMIT');
      one.committed();
      expect(await other).toEqual({ fresh: [], duplicates: ['x'] });

      // The second pipeline writes the bucket the first remembers: the first must not trust its memory.
      const y = sameBucket('warm');
      expect(await batch(two, [decoded(y, 0)], c2)).toEqual({ fresh: [y], duplicates: [] });
      expect(await batch(one, [decoded(y, 0)], c1)).toEqual({ fresh: [], duplicates: [y] });
    } finally {
      c1.release();
      c2.release();
    }
  });

  it('forgets what a failed batch decided, since that batch did not count its events', async () => {
    const identities = new Identities(store);
    // Its bucket and second are remembered from a committed batch, so only forgetting can undo the failed one.
    await batch(identities, [decoded(sameBucket('lost'), 0)]);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await identities.firstOccurrences(client, [decoded('lost', 0)]);
      await client.query('ROLLBACK');
      identities.forget();
    } finally {
      client.release();
    }
    expect(await batch(identities, [decoded('lost', 0)])).toEqual({ fresh: ['lost'], duplicates: [] });
  });

  it('answers for events dated before the switch from the table of one row per identity, as stored before migration 0007', async () => {
    const switched: IdentityStore = liveIdentityStore({ secondsFromMs: 0, blocksFromMs: T0 + 60_000 });
    const identities = new Identities(switched);
    expect(await batch(identities, [decoded('before', 0), decoded('after', 120)])).toEqual({ fresh: ['before', 'after'], duplicates: [] });
    expect(await batch(new Identities(switched), [decoded('after', 120), decoded('before', 0)])).toEqual({ fresh: [], duplicates: ['after', 'before'] });
    const counts = (await pool.query<{ rows: string; blocks: string }>(`SELECT (SELECT count(*) FROM pulse.seen_events) AS rows, (SELECT sum(length(hashes)) / 12 FROM pulse.identity_blocks) AS blocks`)).rows[0];
    expect({ rows: Number(counts.rows), blocks: Number(counts.blocks) }).toEqual({ rows: 1, blocks: 1 });
  });
});
