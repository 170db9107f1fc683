import pg from 'pg';
import { isolatedDatabase } from '../../../test/support/services.js';
import { startTimescale, type TimescaleServer } from '../../../test/support/timescale.js';
import { migrate } from './migrate.js';

// The TimescaleDB path of the read models (PGlite with TimescaleDB 2.23, see test/support/timescale.ts).
// There facts_1h and facts_1d are continuous aggregates that nothing refreshes by itself: no
// background workers run the policies, so these tests refresh (or run_job) where a server would.
// Each test that writes has a read-model version of its own, because a refresh moves the watermark
// of the whole aggregate and would change what other tests see.

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

interface Fact {
  bucket: Date;
  metric: string;
  dimKey: string;
  value: number;
  events: number;
  lateEvents: number;
  lateValue: number;
}

/** One minute bucket of a metric: on time unless `late`, totals ('{}') unless `dims`. */
function minute({ at, metric = 'revenue', dims = {}, value = 100, events = 1, late = false }: { at: string; metric?: string; dims?: Record<string, string>; value?: number; events?: number; late?: boolean }): Fact {
  const bucket = new Date(at);
  bucket.setUTCSeconds(0, 0);
  const dimKey = JSON.stringify(Object.fromEntries(Object.entries(dims).sort(([a], [b]) => a.localeCompare(b))));
  return { bucket, metric, dimKey, value, events, lateEvents: late ? events : 0, lateValue: late ? value : 0 };
}

/** The facts of a coarser grain, combined in memory as the projector does before it writes. */
function rollUp(facts: Fact[], grainMs: number): Fact[] {
  const byKey = new Map<string, Fact>();
  for (const f of facts) {
    const bucket = new Date(Math.floor(f.bucket.getTime() / grainMs) * grainMs);
    const key = `${f.metric}|${bucket.toISOString()}|${f.dimKey}`;
    const sum = byKey.get(key) ?? { ...f, bucket, value: 0, events: 0, lateEvents: 0, lateValue: 0 };
    sum.value += f.value;
    sum.events += f.events;
    sum.lateEvents += f.lateEvents;
    sum.lateValue += f.lateValue;
    byKey.set(key, sum);
  }
  return [...byKey.values()];
}

/** The projector's upsert: one statement per batch, adding to what the buckets already hold. */
async function upsert(db: pg.ClientBase, table: string, facts: Fact[]): Promise<void> {
  await db.query(
    `INSERT INTO ${table} AS facts (bucket, metric, dim_key, value, events, late_events, late_value)
     SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
     ON CONFLICT (metric, bucket, dim_key, partition) DO UPDATE SET
       value = facts.value + excluded.value, events = facts.events + excluded.events,
       late_events = facts.late_events + excluded.late_events, late_value = facts.late_value + excluded.late_value`,
    [facts.map((f) => f.bucket), facts.map((f) => f.metric), facts.map((f) => f.dimKey), facts.map((f) => f.value), facts.map((f) => f.events), facts.map((f) => f.lateEvents), facts.map((f) => f.lateValue)],
  );
}

/** Materialises [from, to) of a continuous aggregate. Refuses to run inside a transaction. */
async function refresh(db: pg.ClientBase, aggregate: string, from: string, to: string): Promise<void> {
  await db.query(`CALL refresh_continuous_aggregate($1, $2::timestamptz, $3::timestamptz)`, [aggregate, from, to]);
}

// The read query of the API, identical on both paths.
const perBucket = (table: string) => `SELECT bucket, sum(value) FROM ${table} WHERE metric = $1 AND bucket >= $2 AND bucket < $3 GROUP BY bucket ORDER BY bucket`;

async function totals(db: pg.ClientBase, table: string, metric = 'revenue', from = '2025-01-15T00:00:00Z', to = '2025-01-17T00:00:00Z'): Promise<Record<string, number>> {
  const { rows } = await db.query<{ bucket: Date; sum: string }>(perBucket(table), [metric, from, to]);
  return Object.fromEntries(rows.map((r) => [r.bucket.toISOString(), Number(r.sum)]));
}

describe('read models on TimescaleDB', () => {
  let timescale: TimescaleServer;
  let db: pg.Client;

  beforeAll(async () => {
    timescale = await startTimescale();
    await migrate(timescale.url, { timescale: 'auto' });
    db = new pg.Client({ connectionString: timescale.url });
    await db.connect();
    await db.query(`SELECT pulse.create_read_model('sales', 1)`);
  });

  afterAll(async () => {
    await db?.end();
    await timescale?.stop();
  });

  const readModel = async (version: number) => (await db.query<{ s: string }>(`SELECT pulse.create_read_model('sales', $1) AS s`, [version])).rows[0].s;

  it('records at migration that TimescaleDB is used', async () => {
    const { rows } = await db.query(`SELECT value FROM pulse.settings WHERE key = 'timescale'`);
    expect(rows).toEqual([{ value: true }]);
  });

  it('keeps facts in hypertables and the hourly and daily roll-ups in continuous aggregates', async () => {
    const hypertables = await db.query(`SELECT hypertable_name FROM timescaledb_information.hypertables WHERE hypertable_schema = 'rm_sales_v1' ORDER BY 1`);
    expect(hypertables.rows.map((r) => r.hypertable_name)).toEqual(['facts_1m', 'facts_1s']);

    const aggregates = await db.query(
      `SELECT view_name, hypertable_name, materialization_hypertable_name, materialized_only
       FROM timescaledb_information.continuous_aggregates WHERE view_schema = 'rm_sales_v1' ORDER BY view_name DESC`,
    );
    const [hourly, daily] = aggregates.rows;
    expect(hourly).toMatchObject({ view_name: 'facts_1h', hypertable_name: 'facts_1m', materialized_only: false });
    // Hierarchical: the daily aggregate reads the hourly one's materialisation.
    expect(daily).toMatchObject({ view_name: 'facts_1d', hypertable_name: hourly.materialization_hypertable_name, materialized_only: false });

    // Queries see the same columns as on plain PostgreSQL.
    const columns = await db.query(`SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'rm_sales_v1' AND table_name LIKE 'facts_%' ORDER BY table_name, ordinal_position`);
    // Facts are kept per partition; the roll-ups sum the partitions. Queries read the same columns on both.
    for (const table of ['facts_1s', 'facts_1m', 'facts_1h', 'facts_1d']) {
      const perPartition = table === 'facts_1s' || table === 'facts_1m' ? ['partition integer'] : [];
      expect(columns.rows.filter((c) => c.table_name === table).map((c) => `${c.column_name} ${c.data_type}`)).toEqual([
        'bucket timestamp with time zone', 'metric text', 'dim_key text', ...perPartition, 'value bigint', 'events bigint', 'late_events bigint', 'late_value bigint',
      ]);
    }
  });

  it('shows minute facts in the hourly and daily roll-ups before any refresh (real-time aggregation)', async () => {
    const s = await readModel(2);
    await upsert(db, `${s}.facts_1m`, [
      minute({ at: '2025-01-15T10:05:00Z', value: 500 }),
      minute({ at: '2025-01-15T10:59:00Z', value: 20, dims: { channel: 'web' } }),
      minute({ at: '2025-01-15T11:00:00Z', value: 7 }),
      minute({ at: '2025-01-16T00:30:00Z', value: 1 }),
    ]);
    await upsert(db, `${s}.facts_1m`, [minute({ at: '2025-01-15T10:05:00Z', value: 3 })]); // same bucket: adds up

    expect(await totals(db, `${s}.facts_1h`)).toEqual({ '2025-01-15T10:00:00.000Z': 523, '2025-01-15T11:00:00.000Z': 7, '2025-01-16T00:00:00.000Z': 1 });
    expect(await totals(db, `${s}.facts_1d`)).toEqual({ '2025-01-15T00:00:00.000Z': 530, '2025-01-16T00:00:00.000Z': 1 });
  });

  it('shows a late fact in an hour already materialised once that hour, then its day, is refreshed', async () => {
    const s = await readModel(3);
    await upsert(db, `${s}.facts_1m`, [minute({ at: '2025-01-15T10:05:00Z', value: 500 }), minute({ at: '2025-01-15T11:30:00Z', value: 7 })]);
    // What the policies would have done by now: hours up to 11:00 and the whole day materialised.
    await refresh(db, `${s}.facts_1h`, '2025-01-15T00:00:00Z', '2025-01-15T11:00:00Z');
    await refresh(db, `${s}.facts_1d`, '2025-01-15T00:00:00Z', '2025-01-16T00:00:00Z');

    await upsert(db, `${s}.facts_1m`, [minute({ at: '2025-01-15T10:40:00Z', value: 20, late: true })]);
    // Below the watermark the aggregates serve only what was materialised: the late fact is not there yet.
    expect(await totals(db, `${s}.facts_1h`)).toEqual({ '2025-01-15T10:00:00.000Z': 500, '2025-01-15T11:00:00.000Z': 7 });

    await refresh(db, `${s}.facts_1h`, '2025-01-15T10:00:00Z', '2025-01-15T11:00:00Z');
    expect(await totals(db, `${s}.facts_1h`)).toEqual({ '2025-01-15T10:00:00.000Z': 520, '2025-01-15T11:00:00.000Z': 7 });
    expect(await totals(db, `${s}.facts_1d`)).toEqual({ '2025-01-15T00:00:00.000Z': 507 });

    await refresh(db, `${s}.facts_1d`, '2025-01-15T00:00:00Z', '2025-01-16T00:00:00Z');
    expect(await totals(db, `${s}.facts_1d`)).toEqual({ '2025-01-15T00:00:00.000Z': 527 });
    const late = await db.query(`SELECT late_events, late_value FROM ${s}.facts_1h WHERE bucket = '2025-01-15T10:00:00Z'`);
    expect(late.rows).toEqual([{ late_events: '1', late_value: '20' }]);
  });

  it('hides, after refreshing a later hour, earlier hours that were never materialised', async () => {
    // Why the projector must refresh from the oldest unmaterialised hour, never a later hour alone:
    // the watermark moves to the end of the refreshed window, and below it only materialised rows count.
    const s = await readModel(4);
    await upsert(db, `${s}.facts_1m`, [minute({ at: '2025-01-15T08:05:00Z', value: 5 }), minute({ at: '2025-01-15T12:05:00Z', value: 7 })]);
    await refresh(db, `${s}.facts_1h`, '2025-01-15T12:00:00Z', '2025-01-15T13:00:00Z');
    expect(await totals(db, `${s}.facts_1h`)).toEqual({ '2025-01-15T12:00:00.000Z': 7 });

    await refresh(db, `${s}.facts_1h`, '2025-01-15T08:00:00Z', '2025-01-15T12:00:00Z');
    expect(await totals(db, `${s}.facts_1h`)).toEqual({ '2025-01-15T08:00:00.000Z': 5, '2025-01-15T12:00:00.000Z': 7 });
  });

  it('has retention, compression and refresh jobs that run on demand', async () => {
    const s = await readModel(5);
    const jobs = await db.query<{ job_id: number; proc_name: string; hypertable_name: string; config: Record<string, unknown> }>(
      `SELECT j.job_id, j.proc_name, coalesce(a.view_name, j.hypertable_name) AS hypertable_name, j.config
       FROM timescaledb_information.jobs j
       LEFT JOIN timescaledb_information.continuous_aggregates a ON a.materialization_hypertable_schema = j.hypertable_schema AND a.materialization_hypertable_name = j.hypertable_name
       WHERE j.hypertable_schema = $1 OR a.view_schema = $1 ORDER BY j.job_id`,
      [s],
    );
    const job = (proc: string, table: string) => jobs.rows.find((j) => j.proc_name === proc && j.hypertable_name === table);
    expect(job('policy_retention', 'facts_1s')?.config).toMatchObject({ drop_after: '2 days' });
    expect(job('policy_retention', 'facts_1m')?.config).toMatchObject({ drop_after: '90 days' });
    expect(job('policy_compression', 'facts_1m')?.config).toMatchObject({ compress_after: '7 days' });
    expect(job('policy_refresh_continuous_aggregate', 'facts_1h')).toBeDefined();
    expect(job('policy_refresh_continuous_aggregate', 'facts_1d')).toBeDefined();

    // Retention and compression compare chunks with the server's clock, so these facts are placed
    // relative to it rather than on the fixed dates of the other tests.
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const ago = (ms: number) => new Date(now - ms).toISOString();
    await upsert(db, `${s}.facts_1s`, [minute({ at: ago(3 * DAY_MS) }), minute({ at: ago(HOUR_MS) })]);
    await upsert(db, `${s}.facts_1m`, [minute({ at: ago(100 * DAY_MS) }), minute({ at: ago(10 * DAY_MS), value: 1 }), minute({ at: ago(HOUR_MS) })]);

    for (const { job_id } of jobs.rows) await db.query('CALL run_job($1)', [job_id]);

    const chunks = await db.query<{ hypertable_name: string; range_end: Date; is_compressed: boolean }>(
      `SELECT hypertable_name, range_end, is_compressed FROM timescaledb_information.chunks WHERE hypertable_schema = $1 ORDER BY hypertable_name, range_start`,
      [s],
    );
    const left = (table: string) => chunks.rows.filter((c) => c.hypertable_name === table);
    expect(left('facts_1s').every((c) => c.range_end.getTime() > now - 2 * DAY_MS)).toBe(true);
    expect(left('facts_1m').map((c) => c.range_end.getTime() > now - 90 * DAY_MS)).toEqual([true, true]);
    expect(left('facts_1m').map((c) => c.is_compressed)).toEqual([true, false]);
    const facts = await db.query(`SELECT count(*)::int AS n FROM ${s}.facts_1s UNION ALL SELECT count(*)::int FROM ${s}.facts_1m`);
    expect(facts.rows).toEqual([{ n: 1 }, { n: 2 }]);

    // A fact ten days late lands in a compressed chunk: the upsert still adds up.
    await upsert(db, `${s}.facts_1m`, [minute({ at: ago(10 * DAY_MS), value: 41, late: true })]);
    const compressed = await db.query(`SELECT value, late_value FROM ${s}.facts_1m WHERE bucket = $1`, [ago(10 * DAY_MS)]);
    expect(compressed.rows).toEqual([{ value: '42', late_value: '41' }]);
  });

  it('answers the hourly and daily query as plain PostgreSQL does with tables the projector fills', async () => {
    const onTime = [
      minute({ at: '2025-01-15T09:01:00Z', value: 1000 }),
      minute({ at: '2025-01-15T09:01:00Z', value: 700, dims: { channel: 'web' } }),
      minute({ at: '2025-01-15T09:59:00Z', value: 250 }),
      minute({ at: '2025-01-15T10:30:00Z', value: 400 }),
      minute({ at: '2025-01-15T23:59:00Z', value: 75 }),
      minute({ at: '2025-01-16T00:00:00Z', value: 60 }),
      minute({ at: '2025-01-16T01:15:00Z', value: 90 }),
      minute({ at: '2025-01-16T01:15:00Z', value: 30, dims: { channel: 'web' } }),
      minute({ at: '2025-01-15T09:01:00Z', metric: 'orders', value: 1 }),
    ];
    const late = [
      minute({ at: '2025-01-15T09:30:00Z', value: 500, late: true }), // an hour and a day already materialised
      minute({ at: '2025-01-15T10:30:00Z', value: 100, late: true }), // a bucket that already has a row
      minute({ at: '2025-01-16T01:20:00Z', value: 5 }), // above the watermark: real time
    ];
    const expected = {
      facts_1h: { '2025-01-15T09:00:00.000Z': 2450, '2025-01-15T10:00:00.000Z': 500, '2025-01-15T23:00:00.000Z': 75, '2025-01-16T00:00:00.000Z': 60, '2025-01-16T01:00:00.000Z': 125 },
      facts_1d: { '2025-01-15T00:00:00.000Z': 3025, '2025-01-16T00:00:00.000Z': 185 },
    };

    // TimescaleDB: the projector writes minutes only; the hours and days are aggregates of them.
    await upsert(db, 'rm_sales_v1.facts_1m', onTime);
    await refresh(db, 'rm_sales_v1.facts_1h', '2025-01-15T00:00:00Z', '2025-01-16T00:00:00Z');
    await refresh(db, 'rm_sales_v1.facts_1d', '2025-01-15T00:00:00Z', '2025-01-16T00:00:00Z');
    await upsert(db, 'rm_sales_v1.facts_1m', late);
    // The late hours and their day, below the watermarks (16 Jan 01:00 stays real time).
    await refresh(db, 'rm_sales_v1.facts_1h', '2025-01-15T09:00:00Z', '2025-01-15T11:00:00Z');
    await refresh(db, 'rm_sales_v1.facts_1d', '2025-01-15T00:00:00Z', '2025-01-16T00:00:00Z');

    // Plain PostgreSQL: the projector writes every grain.
    const plain = await isolatedDatabase();
    const pgClient = new pg.Client({ connectionString: plain.url });
    try {
      await migrate(plain.url, { timescale: 'off' });
      await pgClient.connect();
      await pgClient.query(`SELECT pulse.create_read_model('sales', 1)`);
      for (const batch of [onTime, late]) {
        await upsert(pgClient, 'rm_sales_v1.facts_1m', batch);
        await upsert(pgClient, 'rm_sales_v1.facts_1h', rollUp(batch, HOUR_MS));
        await upsert(pgClient, 'rm_sales_v1.facts_1d', rollUp(batch, DAY_MS));
      }

      for (const table of ['facts_1h', 'facts_1d'] as const) {
        const query = perBucket(`rm_sales_v1.${table}`);
        const params = ['revenue', '2025-01-15T00:00:00Z', '2025-01-17T00:00:00Z'];
        const [onTimescale, onPlain] = await Promise.all([db.query(query, params), pgClient.query(query, params)]);
        expect(onTimescale.rows).toEqual(onPlain.rows);
        expect(await totals(db, `rm_sales_v1.${table}`)).toEqual(expected[table]);
      }
    } finally {
      await pgClient.end();
      await plain.dispose();
    }
  });
});
