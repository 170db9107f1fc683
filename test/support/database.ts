import pg from 'pg';
import { migrate } from '../../apps/projector/src/migrate.js';
import { isolatedDatabase } from './services.js';

/** A fresh database of this test's own with every migration applied (plain PostgreSQL path). */
export async function migratedDatabase(options: { timescale?: 'auto' | 'off' } = {}) {
  const db = await isolatedDatabase();
  await migrate(db.url, { timescale: options.timescale ?? 'off' });
  return db;
}

/**
 * A pool on a test's own database. pg-pool's end() resolves once it has asked its idle connections to close, not
 * once they have: the DROP DATABASE ... WITH (FORCE) that follows can cut one still closing, and that error is
 * expected, not a failure of the test (unheard, it fails whichever test is running).
 */
export function testPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', () => undefined);
  return pool;
}
