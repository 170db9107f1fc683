import { ensureDatabase, migrate } from './migrate.js';

// `npm run migrate`: creates the database if needed and applies pending migrations (DATABASE_URL).
const url = process.env.DATABASE_URL;
if (!url) {
  console.error('DATABASE_URL is not set');
  process.exit(2);
}
await ensureDatabase(url);
const applied = await migrate(url, { timescale: process.env.PULSE_TIMESCALE === 'off' ? 'off' : 'auto', log: (line) => console.log(line) });
console.log(applied.length ? `applied ${applied.length} migration(s)` : 'database is up to date');
