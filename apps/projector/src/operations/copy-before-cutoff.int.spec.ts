import pg from 'pg';
import { migratedDatabase, testPool } from '../../../../test/support/database.js';
import { copyBeforeCutoff } from './copy-before-cutoff.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('a partial rebuild copying what the served version knows before its cutoff (plain PostgreSQL)', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let pool: pg.Pool;

  beforeEach(async () => {
    db = await migratedDatabase();
    pool = testPool(db.url, 1);
    await pool.query(`SELECT pulse.create_read_model('sales', 1), pulse.create_read_model('sales', 2)`);
  });
  afterEach(async () => {
    await pool.end();
    await db.dispose();
  });

  const put = (table: string, rows: Array<[number, number]>) =>
    pool.query(
      `INSERT INTO rm_sales_v1.${table} (bucket, metric, dim_key, partition, value, events, late_events, late_value)
       SELECT to_timestamp(b::float8 / 1000), 'orders', '{}', 0, v, v, 0, 0 FROM unnest($1::bigint[], $2::bigint[]) AS u(b, v)`,
      [rows.map((r) => r[0]), rows.map((r) => r[1])],
    );
  const copied = async (table: string) =>
    (await pool.query<{ b: Date; v: string }>(`SELECT bucket AS b, value AS v FROM rm_sales_v2.${table} ORDER BY bucket`)).rows.map((r) => [r.b.getTime(), Number(r.v)]);

  it('sums hours and days from the minutes, so roll-ups the live partitions still hold back are not lost, and copies those retention left no minutes for', async () => {
    const today = Math.floor(Date.now() / DAY) * DAY;
    const old = today - 100 * DAY; // minutes long gone, hours and days kept
    const h1 = today - DAY + 10 * HOUR;
    const cutoff = new Date(h1 + HOUR + 30 * 60_000); // half an hour into the hour after h1
    await put('facts_1h', [[old, 7]]);
    await put('facts_1d', [[old, 7]]);
    await put('facts_1m', [[h1, 2], [h1 + 60_000, 3], [h1 + HOUR, 4], [h1 + HOUR + 45 * 60_000, 100]]);
    // The served version's hour h1 lags its minutes by 3: a live partition still holds that delta in memory.
    await put('facts_1h', [[h1, 2], [h1 + HOUR, 104]]);
    await put('facts_1d', [[today - DAY, 106]]);

    const client = await pool.connect();
    await copyBeforeCutoff(client, 'rm_sales_v1', 'rm_sales_v2', cutoff, false, 'sales').finally(() => client.release());

    expect(await copied('facts_1m')).toEqual([[h1, 2], [h1 + 60_000, 3], [h1 + HOUR, 4]]);
    // h1 whole from its minutes; the straddling hour from its minutes before the cutoff; the old hour copied.
    expect(await copied('facts_1h')).toEqual([[old, 7], [h1, 5], [h1 + HOUR, 4]]);
    expect(await copied('facts_1d')).toEqual([[old, 7], [today - DAY, 9]]);
  });
});
