import pg from 'pg';
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
});
