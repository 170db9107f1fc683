import pg from 'pg';
import { IDENTITY_BUCKETS } from '@pulse/contracts';
import { PROJECTIONS } from '@pulse/domain';
import { isolatedDatabase } from '../../../test/support/services.js';
import { migrate } from './migrate.js';

describe('migrations on an empty PostgreSQL database', () => {
  it('apply in order, once, and create every projection read model', async () => {
    const db = await isolatedDatabase();
    try {
      const first = await migrate(db.url, { timescale: 'off' });
      expect(first[0]).toBe('0001_core.sql');
      expect(await migrate(db.url, { timescale: 'off' })).toEqual([]);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      for (const projection of PROJECTIONS) {
        const { rows } = await client.query<{ s: string }>('SELECT pulse.create_read_model($1, 1) AS s', [projection]);
        expect(rows[0].s).toBe(`rm_${projection}_v1`);
      }
      const tables = await client.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'rm_inventory_v1' ORDER BY 1`);
      expect(tables.rows.map((r) => r.table_name)).toEqual(['corrections', 'facts_1d', 'facts_1h', 'facts_1m', 'facts_1s', 'stock_levels', 'stock_movements']);
      await client.end();
    } finally {
      await db.dispose();
    }
  });

  /**
   * The value of the switch `key` in a new store, then after `migration` is applied again (its own
   * tables dropped by `undo`, if it made any) to a store that holds identities, as a store migrated before it would be.
   */
  async function switchSetting(key: string, migration: string, undo: string | null, newStore: (client: pg.Client) => Promise<void> = async () => undefined) {
    const db = await isolatedDatabase();
    const client = new pg.Client({ connectionString: db.url });
    try {
      await migrate(db.url, { timescale: 'off' });
      await client.connect();
      const setting = async () => Number((await client.query<{ value: unknown }>(`SELECT value FROM pulse.settings WHERE key = $1`, [key])).rows[0].value);
      const inNewStore = await setting();
      await newStore(client);

      await client.query(`DELETE FROM pulse.settings WHERE key = '${key}'; ${undo ? `${undo};` : ''} DELETE FROM public.pulse_migrations WHERE name = '${migration}'`);
      await client.query(`INSERT INTO pulse.seen_events (id, event_day) VALUES ('01234567-89ab-cdef-0123-456789abcdef', current_date)`);
      const before = new Date();
      const applied = await migrate(db.url, { timescale: 'off' });
      const nextMidnight = Date.UTC(before.getUTCFullYear(), before.getUTCMonth(), before.getUTCDate() + 1);
      return { inNewStore, applied, afterUpgrade: await setting(), nextMidnight };
    } finally {
      await client.end();
      await db.dispose();
    }
  }

  it('keys every event by its second in a new store, and switches a store that holds identities at the next UTC midnight', async () => {
    const { inNewStore, applied, afterUpgrade, nextMidnight } = await switchSetting('identity_seconds_from_ms', '0006_identity_by_second.sql', null);
    expect(inNewStore).toBe(0);
    expect(applied).toEqual(['0006_identity_by_second.sql']);
    expect(afterUpgrade).toBe(nextMidnight);
  });

  it('keeps identities in blocks for every event in a new store, and from the next UTC midnight in a store that holds identities', async () => {
    let buckets = 0;
    const { inNewStore, applied, afterUpgrade, nextMidnight } = await switchSetting('identity_blocks_from_ms', '0007_identity_blocks.sql', 'DROP TABLE pulse.identity_blocks, pulse.identity_buckets', async (client) => {
      buckets = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM pulse.identity_buckets`)).rows[0].n);
    });
    expect(inNewStore).toBe(0);
    expect(buckets).toBe(IDENTITY_BUCKETS);
    expect(applied).toEqual(['0007_identity_blocks.sql']);
    expect(afterUpgrade).toBe(nextMidnight);
  });
});
