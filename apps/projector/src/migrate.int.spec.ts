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

  it('keys every event by its second in a new store, and switches a store that holds identities at the next UTC midnight', async () => {
    const db = await isolatedDatabase();
    const client = new pg.Client({ connectionString: db.url });
    try {
      await migrate(db.url, { timescale: 'off' });
      await client.connect();
      const setting = async () => Number((await client.query<{ value: unknown }>(`SELECT value FROM pulse.settings WHERE key = 'identity_seconds_from_ms'`)).rows[0].value);
      expect(await setting()).toBe(0);

      // As a store migrated before 0006, with identities in it.
      await client.query(`DELETE FROM pulse.settings WHERE key = 'identity_seconds_from_ms'; DELETE FROM public.pulse_migrations WHERE name = '0006_identity_by_second.sql'`);
      await client.query(`INSERT INTO pulse.seen_events (id, event_day) VALUES ('01234567-89ab-cdef-0123-456789abcdef', current_date)`);
      const before = Date.now();
      expect(await migrate(db.url, { timescale: 'off' })).toEqual(['0006_identity_by_second.sql']);

      const midnight = Date.UTC(new Date(before).getUTCFullYear(), new Date(before).getUTCMonth(), new Date(before).getUTCDate() + 1);
      expect(await setting()).toBe(midnight);
    } finally {
      await client.end();
      await db.dispose();
    }
  });

  it('keeps identities in blocks for every event in a new store, and from the next UTC midnight in a store that holds identities', async () => {
    const db = await isolatedDatabase();
    const client = new pg.Client({ connectionString: db.url });
    try {
      await migrate(db.url, { timescale: 'off' });
      await client.connect();
      const setting = async () => Number((await client.query<{ value: unknown }>(`SELECT value FROM pulse.settings WHERE key = 'identity_blocks_from_ms'`)).rows[0].value);
      expect(await setting()).toBe(0);
      expect(Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM pulse.identity_buckets`)).rows[0].n)).toBe(IDENTITY_BUCKETS);

      // As a store migrated before 0007, with identities in its table of one row per identity.
      await client.query(`DELETE FROM pulse.settings WHERE key = 'identity_blocks_from_ms'; DROP TABLE pulse.identity_blocks, pulse.identity_buckets; DELETE FROM public.pulse_migrations WHERE name = '0007_identity_blocks.sql'`);
      await client.query(`INSERT INTO pulse.seen_events (id, event_day) VALUES ('01234567-89ab-cdef-0123-456789abcdef', current_date)`);
      const before = Date.now();
      expect(await migrate(db.url, { timescale: 'off' })).toEqual(['0007_identity_blocks.sql']);
      expect(await setting()).toBe(Date.UTC(new Date(before).getUTCFullYear(), new Date(before).getUTCMonth(), new Date(before).getUTCDate() + 1));
    } finally {
      await client.end();
      await db.dispose();
    }
  });
});
