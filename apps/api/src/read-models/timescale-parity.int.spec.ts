import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseEvent, PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { recentMinute, useClock } from '@pulse/contracts/testing';
import { bucketStart, type Grain } from '@pulse/domain';
import pg from 'pg';
import { migratedDatabase } from '../../../../test/support/database.js';
import { caughtUp, runProjector } from '../../../../test/support/projector.js';
import { eventually, isolatedNats } from '../../../../test/support/services.js';
import { startTimescale, type TimescaleServer } from '../../../../test/support/timescale.js';
import { mixedTraffic } from '../../../../test/support/traffic.js';
import type { ApiConfig } from '../config.js';
import { queryBreakdown } from './breakdown.js';
import { queryFunnel } from './funnel.js';
import { queryStock } from './inventory.js';
import { queryNow } from './now-tiles.js';
import { ReadModels } from './read-models.js';
import { queryCorrections, queryReconciliation } from './reconciliation.js';
import { querySeries, type SeriesQuery } from './series.js';

// Issue #3: the read-model queries answer the same on plain PostgreSQL (the projector writes every
// grain) and on TimescaleDB (hours and days are continuous aggregates the projector refreshes), also
// after late events land in an hour TimescaleDB has already materialised. One event stream is
// projected by the real projector into both databases; the API's query functions then read both.
// The TimescaleDB is PGlite (test/support/timescale.ts): one session, so its projector has a single
// connection, and it is stopped before the queries read.

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Durable consumer prefixes: each database's projector reads the whole stream through consumers of its own. */
const PLAIN = 'plain-';
const TIMESCALE = 'ts-';

describe('read-model queries on plain PostgreSQL and on TimescaleDB', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;
  let producer: PulseProducer;
  let plain: Awaited<ReturnType<typeof migratedDatabase>>;
  let timescale: TimescaleServer;

  // Event time. Today: 90 minutes of traffic ending 20 minutes ago. Its late batch falls in the hour
  // that holds "100 minutes ago", where the traffic has at least ten minutes: that hour ended at least
  // 40 minutes ago, so the projector's refresh (up to the current hour) has materialised it. Yesterday:
  // ten minutes of traffic 26 hours ago and a late batch in the same hour; that day is over, so the
  // daily aggregate has materialised it too (the refresh goes up to today's midnight).
  const nowMs = Date.now();
  const trafficStartMs = Date.parse(recentMinute(110));
  const lateHourMs = bucketStart(nowMs - 100 * MINUTE, '1h');
  const lateDayMs = bucketStart(lateHourMs, '1d');
  const yesterdayHourMs = bucketStart(nowMs - 26 * HOUR, '1h');
  const yesterdayMs = bucketStart(yesterdayHourMs, '1d');

  const earlier = trafficAt(yesterdayHourMs + 10 * MINUTE, 'y', 220, { minutes: 10, seed: 5 });
  const traffic = trafficAt(trafficStartMs, 'e', 8000, { minutes: 90, seed: 3, lateShare: 0.05, duplicateShare: 0.02 });
  const late = [
    ...trafficAt(Math.max(lateHourMs, trafficStartMs) + MINUTE, 'late', 330, { minutes: 5, seed: 17 }),
    ...trafficAt(yesterdayHourMs + 12 * MINUTE, 'ylate', 110, { minutes: 4, seed: 23 }),
  ];
  // Events of the first stream sent again, among them orders of the late hour: they must count nowhere.
  const resent = [
    ...traffic.filter((e) => e.type === 'order.placed' && bucketStart(Date.parse(e.time), '1h') === lateHourMs).slice(0, 5),
    ...traffic.filter((_, i) => i % 400 === 7),
  ];

  beforeAll(async () => {
    ({ names, nc, dispose: disposeNats } = await isolatedNats(1));
    await ensureStreams(await jetstreamManager(nc), names);
    // One event per message: the projector works through the stream in many batches (and on
    // TimescaleDB refreshes between them), as when it catches up on live traffic.
    producer = new PulseProducer(jetstream(nc), { names, maxEventsPerMessage: 1, maxInFlight: 256 });
    [plain, timescale] = await Promise.all([migratedDatabase(), startTimescale()]);
  });

  afterAll(async () => {
    await timescale?.stop();
    await plain?.dispose();
    await disposeNats?.();
  });

  /**
   * Runs the real projector until it has committed the whole stream, then stops it. On TimescaleDB it
   * also waits for the roll-up refresh its last commits asked for (deferred by at most a second): the
   * test itself never refreshes an aggregate.
   */
  async function project(databaseUrl: string, consumerPrefix: string, overrides: Parameters<typeof runProjector>[2] = {}): Promise<void> {
    const run = await runProjector(names, databaseUrl, { consumerPrefix, ...overrides });
    try {
      await caughtUp(nc, names, 40_000, consumerPrefix);
      await eventually(() => (run.projector.workers.every((w) => !refreshOwed(w)) ? true : undefined), 10_000, 'the roll-up refresh');
    } finally {
      await run.stop();
    }
  }

  const projectBoth = () =>
    Promise.all([
      project(plain.url, PLAIN, { timescale: 'off' }),
      // The worker holds PGlite's only session for its lifetime; the projector's other pool users wait.
      project(timescale.url, TIMESCALE, { timescale: 'auto', poolSize: 1 }),
    ]);

  /**
   * What the TimescaleDB aggregates have materialised of the orders of the two late hours and of
   * yesterday. (Today is above the daily watermark: its day is summed from the hourly aggregate.)
   */
  const materialisedOrders = () =>
    withClient(timescale.url, async (db) => ({
      hour: await materialised(db, 'rm_sales_v1.facts_1h', 'orders', lateHourMs),
      yesterdayHour: await materialised(db, 'rm_sales_v1.facts_1h', 'orders', yesterdayHourMs),
      yesterday: await materialised(db, 'rm_sales_v1.facts_1d', 'orders', yesterdayMs),
    }));

  it('answers every query alike, before and after late events in an hour and a day already materialised', async () => {
    await producer.publishValidated([...earlier, ...traffic]);
    await projectBoth();

    const settings = (url: string) => withClient(url, async (db) => (await db.query(`SELECT value FROM pulse.settings WHERE key = 'timescale'`)).rows);
    expect(await settings(timescale.url)).toEqual([{ value: true }]);
    expect(await settings(plain.url)).toEqual([{ value: false }]);

    const before = { plain: await answers(plain.url), timescale: await answers(timescale.url) };
    const materialisedBefore = await materialisedOrders();
    // Both late hours and yesterday lie below the watermarks: there TimescaleDB answers from what it
    // has materialised only, and that is what the queries returned.
    for (const m of Object.values(materialisedBefore)) expect(m.watermarkMs).toBeGreaterThan(m.bucketMs);
    expect(materialisedBefore.hour.value).toBe(valueAt(before.timescale.series.orders_1h, lateHourMs));
    expect(materialisedBefore.yesterdayHour.value).toBe(valueAt(before.timescale.series.orders_1h, yesterdayHourMs));
    expect(materialisedBefore.yesterday.value).toBe(valueAt(before.timescale.series.orders_1d, yesterdayMs));
    expect(materialisedBefore.yesterday.value).toBeGreaterThan(0);

    expectNonTrivial(before.plain);
    expect(comparable(before.timescale)).toEqual(comparable(before.plain));

    await producer.publishValidated([...late, ...resent]);
    await projectBoth();

    const after = { plain: await answers(plain.url), timescale: await answers(timescale.url) };
    const lateOrders = late.filter((e): e is Extract<PulseEvent, { type: 'order.placed' }> => e.type === 'order.placed');
    const expected = (grain: Grain, bucketMs: number) => {
      const orders = lateOrders.filter((e) => bucketStart(Date.parse(e.time), grain) === bucketMs);
      return { orders: orders.length, revenue: orders.reduce((sum, e) => sum + e.data.totalMinor, 0), lateEvents: orders.length };
    };
    const buckets = [['1h', lateHourMs], ['1h', yesterdayHourMs], ['1d', lateDayMs], ['1d', yesterdayMs]] as const;
    for (const [grain, bucketMs] of buckets) expect(expected(grain, bucketMs).orders).toBeGreaterThan(5);
    for (const path of ['plain', 'timescale'] as const) {
      const [b, a] = [before[path].series, after[path].series];
      for (const [grain, bucketMs] of buckets) {
        const [orders, revenue] = [`orders_${grain}`, `revenue_${grain}`];
        const change = {
          path,
          bucket: new Date(bucketMs).toISOString(),
          orders: valueAt(a[orders], bucketMs) - valueAt(b[orders], bucketMs),
          revenue: valueAt(a[revenue], bucketMs) - valueAt(b[revenue], bucketMs),
          lateEvents: pointAt(a[orders], bucketMs).lateEvents - pointAt(b[orders], bucketMs).lateEvents,
        };
        expect(change).toEqual({ path, bucket: new Date(bucketMs).toISOString(), ...expected(grain, bucketMs) });
        expect(pointAt(a[orders], bucketMs).revisions).toBeGreaterThan(pointAt(b[orders], bucketMs).revisions);
      }
    }
    // Still below the watermarks: the late orders are in the materialised rows, where only the
    // projector's refresh can have put them.
    const materialisedAfter = await materialisedOrders();
    for (const m of Object.values(materialisedAfter)) expect(m.watermarkMs).toBeGreaterThan(m.bucketMs);
    expect(materialisedAfter.hour.value - materialisedBefore.hour.value).toBe(expected('1h', lateHourMs).orders);
    expect(materialisedAfter.yesterdayHour.value - materialisedBefore.yesterdayHour.value).toBe(expected('1h', yesterdayHourMs).orders);
    expect(materialisedAfter.yesterday.value - materialisedBefore.yesterday.value).toBe(expected('1d', yesterdayMs).orders);

    expectNonTrivial(after.plain);
    expect(after.plain.corrections.orders_late_hour.history.length).toBeGreaterThan(0);
    expect(comparable(after.timescale)).toEqual(comparable(after.plain));
  });

  /** Every read query of the API this test compares, over the test's traffic. */
  async function answers(databaseUrl: string) {
    const models = new ReadModels({ databaseUrl, databasePoolSize: 1, statementTimeoutMs: 20_000 } as ApiConfig);
    try {
      const trafficFrom = trafficStartMs - 10 * MINUTE;
      const ranges: Record<Grain, { fromMs: number; toMs: number }> = {
        '1s': { fromMs: lateHourMs, toMs: lateHourMs + 20 * MINUTE },
        '1m': { fromMs: trafficFrom, toMs: nowMs },
        '1h': { fromMs: yesterdayMs, toMs: nowMs + HOUR },
        '1d': { fromMs: nowMs - 7 * DAY, toMs: nowMs + DAY },
      };
      const series = (metric: string, grain: Grain, more: Partial<SeriesQuery> = {}) => querySeries(models, { metric, grain, groupBy: [], filters: {}, ...ranges[grain], ...more });
      const seriesAnswers = {
        revenue_1s: await series('revenue', '1s', { groupBy: ['currency'] }),
        orders_1m: await series('orders', '1m'),
        revenue_by_currency_1m: await series('revenue', '1m', { groupBy: ['currency'] }),
        conversion_rate_1m: await series('conversion_rate', '1m'),
        sessions_by_channel_1m: await series('sessions', '1m', { groupBy: ['channel'] }),
        payment_failures_1m: await series('checkout_failures', '1m', { filters: { step: 'payment' } }),
      } as Record<string, Awaited<ReturnType<typeof querySeries>>>;
      for (const grain of ['1h', '1d'] as const) {
        Object.assign(seriesAnswers, {
          [`orders_${grain}`]: await series('orders', grain),
          [`revenue_${grain}`]: await series('revenue', grain),
          [`units_by_country_${grain}`]: await series('units', grain, { groupBy: ['country'] }),
          [`orders_by_channel_${grain}`]: await series('orders', grain, { groupBy: ['channel'] }),
          [`average_order_value_${grain}`]: await series('average_order_value', grain),
          [`average_order_value_web_${grain}`]: await series('average_order_value', grain, { filters: { channel: 'web' } }),
          [`conversion_rate_${grain}`]: await series('conversion_rate', grain),
          [`checkout_failure_rate_${grain}`]: await series('checkout_failure_rate', grain),
          [`shipping_failures_${grain}`]: await series('checkout_failures', grain, { filters: { step: 'shipping' } }),
          [`sku_views_${grain}`]: await series('sku_views', grain, { filters: { sku: 'SKU-3' } }),
          [`page_views_by_type_${grain}`]: await series('page_views', grain, { groupBy: ['page_type'] }),
        });
      }
      const minutes = { fromMs: trafficFrom, toMs: nowMs };
      // Beyond two days a breakdown reads whole hours: the hourly roll-up.
      const days = { fromMs: nowMs - 3 * DAY, toMs: nowMs };
      const breakdown = {
        sku_views_by_sku: await queryBreakdown(models, { metric: 'sku_views', by: 'sku', limit: 10, filters: {}, ...minutes }),
        sku_views_by_sku_hours: await queryBreakdown(models, { metric: 'sku_views', by: 'sku', limit: 10, filters: {}, ...days }),
        checkout_failures_by_step: await queryBreakdown(models, { metric: 'checkout_failures', by: 'step', limit: 10, filters: {}, ...minutes }),
        checkout_failures_by_step_hours: await queryBreakdown(models, { metric: 'checkout_failures', by: 'step', limit: 10, filters: {}, ...days }),
        searches_by_query: await queryBreakdown(models, { metric: 'searches', by: 'query', limit: 5, filters: {}, ...minutes }),
        average_order_value_by_channel_hours: await queryBreakdown(models, { metric: 'average_order_value', by: 'channel', limit: 10, filters: {}, ...days }),
      };
      // Revised buckets: the late hours and days, and the minute each database reports most revised.
      const mostRevised = seriesAnswers.orders_1m.series[0].points.reduce((a, b) => (b.revisions > a.revisions ? b : a));
      const corrections = {
        orders_late_hour: await queryCorrections(models, 'orders', '1h', lateHourMs),
        revenue_late_day: await queryCorrections(models, 'revenue', '1d', lateDayMs),
        units_yesterday_hour: await queryCorrections(models, 'units', '1h', yesterdayHourMs),
        average_order_value_yesterday: await queryCorrections(models, 'average_order_value', '1d', yesterdayMs),
        average_order_value_revised_minute: await queryCorrections(models, 'average_order_value', '1m', Date.parse(mostRevised.t)),
      };
      return {
        series: seriesAnswers,
        breakdown,
        funnel: await queryFunnel(models, minutes.fromMs, minutes.toMs),
        stock: await queryStock(models, { limit: 100, nowMs }),
        now: await queryNow(models, { nowMs, currency: 'EUR', timeZone: 'UTC' }),
        corrections,
        reconciliation: await queryReconciliation(models, lateDayMs),
        reconciliationYesterday: await queryReconciliation(models, yesterdayMs),
      };
    } finally {
      await models.onApplicationShutdown();
    }
  }

  function expectNonTrivial(a: Awaited<ReturnType<typeof answers>>): void {
    const points = (name: string) => a.series[name].series.flatMap((s) => s.points);
    for (const name of ['orders_1m', 'orders_1h', 'orders_1d', 'revenue_1h', 'revenue_1d']) expect(points(name).reduce((sum, p) => sum + (p.value ?? 0), 0)).toBeGreaterThan(0);
    expect(points('orders_1h').some((p) => p.revisions > 0 && p.lateEvents > 0)).toBe(true);
    expect(points('average_order_value_1h').some((p) => p.value !== null && p.value > 0)).toBe(true);
    expect(a.series.orders_by_channel_1h.series.length).toBe(2);
    expect(a.breakdown.sku_views_by_sku.rows.length).toBe(10);
    expect(a.funnel.steps.every((s) => s.value > 0)).toBe(true);
    expect(a.stock.rows.length).toBeGreaterThan(0);
    expect(a.corrections.average_order_value_revised_minute.history.length).toBeGreaterThan(0);
    expect(a.reconciliation.metrics.find((m) => m.metric === 'orders')!.lateEvents).toBeGreaterThan(0);
  }
});

/** Whether a partition worker owes a roll-up refresh it deferred (the refresher runs at most once a second). */
function refreshOwed(worker: object): boolean {
  const owed = (worker as { rollups?: { owed?: unknown } }).rollups?.owed;
  if (typeof owed !== 'boolean') throw new Error('PartitionWorker.rollups.owed is gone: update how this test waits for the roll-up refresh');
  return owed;
}

async function withClient<T>(url: string, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/**
 * The watermark of a continuous aggregate, and what its materialisation holds for one metric and
 * bucket. Below the watermark this is all a query of the aggregate sees.
 */
async function materialised(db: pg.Client, aggregate: string, metric: string, bucketMs: number) {
  const [schema, view] = aggregate.split('.');
  const { rows } = await db.query<{ id: number; mat: string }>(
    `SELECT h.id, format('%I.%I', a.materialization_hypertable_schema, a.materialization_hypertable_name) AS mat
     FROM timescaledb_information.continuous_aggregates a
     JOIN _timescaledb_catalog.hypertable h ON h.schema_name = a.materialization_hypertable_schema AND h.table_name = a.materialization_hypertable_name
     WHERE a.view_schema = $1 AND a.view_name = $2`,
    [schema, view],
  );
  const [{ id, mat }] = rows;
  const watermark = await db.query<{ w: Date }>(`SELECT _timescaledb_functions.to_timestamp(_timescaledb_functions.cagg_watermark($1)) AS w`, [id]);
  const value = await db.query<{ v: string | null }>(`SELECT sum(value) AS v FROM ${mat} WHERE metric = $1 AND bucket = $2`, [metric, new Date(bucketMs)]);
  return { bucketMs, watermarkMs: watermark.rows[0].w.getTime(), value: Number(value.rows[0].v ?? 0) };
}

/** Events over `minutes` from `startMs`, with identities of their own: mixedTraffic numbers every stream from e0. */
function trafficAt(startMs: number, tag: string, count: number, options: Parameters<typeof mixedTraffic>[1]): PulseEvent[] {
  useClock(new Date(startMs).toISOString());
  return mixedTraffic(count, { lateShare: 0, duplicateShare: 0, ...options }).map((e) => ({ ...e, id: `${tag}-${e.id}` }) as PulseEvent);
}

type Series = Awaited<ReturnType<typeof querySeries>>;

function pointAt(s: Series, ms: number) {
  const point = s.series[0].points.find((p) => p.t === new Date(ms).toISOString());
  if (!point) throw new Error(`${s.metric} ${s.grain} has no point at ${new Date(ms).toISOString()}`);
  return point;
}

const valueAt = (s: Series, ms: number) => pointAt(s, ms).value ?? 0;

/**
 * An answer without what legitimately differs between two databases fed the same stream: the
 * revision (one per committed batch, and batches are cut by timing) and when a correction was
 * recorded (the commit's clock).
 */
function comparable(answer: unknown): unknown {
  return JSON.parse(
    JSON.stringify(answer, (key, value: unknown) => {
      if (key === 'revision' || key === 'recordedAt') return undefined;
      // A correction history is in the order of its commits; revisions recorded by one commit at one
      // watermark second are in no particular order, and where batches were cut decides which commit
      // that is. Watermark order, then the bucket's identity, is the order of the stream.
      if (key === 'history') return [...(value as Correction[])].sort(byStreamOrder);
      // The series of a grouped query are a set, one per group, in the order the database returned them.
      if (key === 'series' && Array.isArray(value)) return [...(value as Array<{ dims: object }>)].sort((a, b) => JSON.stringify(a.dims).localeCompare(JSON.stringify(b.dims)));
      return value;
    }),
  );
}

interface Correction {
  watermark: string;
  bucket: string;
  metric: string;
  partition: number;
}

const byStreamOrder = (a: Correction, b: Correction) =>
  a.watermark.localeCompare(b.watermark) || a.partition - b.partition || a.bucket.localeCompare(b.bucket) || a.metric.localeCompare(b.metric);
