import { migrate } from '../../apps/projector/src/migrate.js';
import { isolatedDatabase } from './services.js';

/** A fresh database of this test's own with every migration applied (plain PostgreSQL path). */
export async function migratedDatabase(options: { timescale?: 'auto' | 'off' } = {}) {
  const db = await isolatedDatabase();
  await migrate(db.url, { timescale: options.timescale ?? 'off' });
  return db;
}
