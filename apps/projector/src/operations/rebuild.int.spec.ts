import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { recentMinute, useClock } from '@pulse/contracts/testing';
import { migratedDatabase } from '../../../../test/support/database.js';
import { kill, spawnApp } from '../../../../test/support/processes.js';
import { caughtUp, readModel, runProjector } from '../../../../test/support/projector.js';
import { eventually, isolatedNats, NATS_URL } from '../../../../test/support/services.js';
import { SdkTransport, TrafficDriver, TrafficModel } from '@pulse/simulator';
import { mixedTraffic } from '../../../../test/support/traffic.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Reply {
  ok: boolean;
  status?: number;
  code?: string;
  detail?: string;
  operation?: { id: number; status: string; version: number | null };
}

describe('rebuilding a projection on a live system', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let model: ReturnType<typeof readModel>;
  let producer: PulseProducer;
  let historyMinutes: { from: string; to: string };
  let stopTraffic: (() => Promise<unknown>) | undefined;

  beforeEach(async () => {
    useClock(recentMinute(60));
    ({ names, nc, dispose: disposeNats } = await isolatedNats(2));
    await ensureStreams(await jetstreamManager(nc), names);
    db = await migratedDatabase();
    model = readModel(db.url);
    producer = new PulseProducer(jetstream(nc), { names, maxEventsPerMessage: 100 });
    await producer.publishValidated(mixedTraffic(20_000, { minutes: 30, seed: 3 }));
    historyMinutes = { from: recentMinute(61), to: recentMinute(25) };
  });
  afterEach(async () => {
    await stopTraffic?.();
    stopTraffic = undefined;
    await model.close();
    await db.dispose();
    await disposeNats();
  });

  const command = async (name: string, body: Record<string, unknown>) => (await nc.request(names.adminSubject(name), JSON.stringify(body), { timeout: 10_000 })).json<Reply>();
  const operation = async (id: number) => (await model.pool.query<{ status: string; version: number; error: string | null }>(`SELECT status, version, error FROM pulse.operations WHERE id = $1`, [id])).rows[0];
  const served = async (projection: string) => (await model.pool.query<{ version: number }>(`SELECT version FROM pulse.projection_versions WHERE projection = $1 AND status = 'live'`, [projection])).rows[0].version;
  const orderTotal = async (version: number) =>
    Number((await model.pool.query<{ s: string | null }>(`SELECT sum(value) AS s FROM rm_sales_v${version}.facts_1m WHERE metric = 'orders' AND bucket >= $1 AND bucket < $2`, [historyMinutes.from, historyMinutes.to])).rows[0].s ?? 0);

  /**
   * The simulator keeps publishing while the rebuild runs, as the demo does: its shop model through the
   * producer SDK at 1,500 events/s, with late, duplicated, out-of-order and malformed events, until stopped.
   */
  function liveTraffic() {
    const model = new TrafficModel({ seed: 7, startMs: Date.now(), late: 0.02, lateMinMs: 1000, lateMaxMs: 4000, duplicate: 0.01, outOfOrder: 0.05, malformed: 0.002, expectedRate: 1500 });
    const driver = new TrafficDriver({ model, transport: new SdkTransport(producer), rate: 1500, batchSize: 300 });
    driver.start();
    return { stop: () => driver.stop(), accepted: () => driver.stats().accepted };
  }

  it('builds a full new version beside the live one while traffic flows, swaps it in without a gap, and it answers exactly as the old one', async () => {
    const projector = await runProjector(names, db.url, { retiredKeepSeconds: 3600 });
    try {
      await caughtUp(nc, names);
      const expectedHistory = await orderTotal(1);
      expect(expectedHistory).toBeGreaterThan(100);

      const traffic = liveTraffic();
      stopTraffic = traffic.stop;
      // A reader polls throughout: it must only ever see a complete version.
      const seen: Array<{ version: number; total: number }> = [];
      const errors: unknown[] = [];
      let reading = true;
      const reader = (async () => {
        while (reading) {
          try {
            const version = await served('sales');
            seen.push({ version, total: await orderTotal(version) });
          } catch (e) {
            errors.push(e);
          }
          await sleep(15);
        }
      })();

      const reply = await command('rebuild', { projection: 'sales', mode: 'full', reason: 'fix: revenue by category double-counted', requestedBy: 'test' });
      expect(reply).toMatchObject({ ok: true, operation: { status: 'requested' } });
      const id = reply.operation!.id;
      const refused = await command('rebuild', { projection: 'sales', mode: 'full', reason: 'a second one' });
      expect(refused).toMatchObject({ ok: false, status: 409, code: 'rebuild_running', detail: expect.stringContaining(`operation ${id}`) });

      await eventually(async () => ((await operation(id)).status === 'completed' ? true : undefined), 90_000, 'the rebuild to complete');
      await sleep(300);
      reading = false;
      await reader;
      await traffic.stop();
      await caughtUp(nc, names);

      expect(errors).toEqual([]);
      expect(new Set(seen.map((s) => s.version))).toEqual(new Set([1, 2]));
      expect(seen.every((s) => s.total === expectedHistory)).toBe(true);
      expect(await served('sales')).toBe(2);
      expect(traffic.accepted()).toBeGreaterThan(500);
      // The retired version is still fed until it is dropped: both hold the same events, decided the same way.
      const [old, rebuilt] = [await model.dumpVersion('sales', 1), await model.dumpVersion('sales', 2)];
      expect(rebuilt.length).toBeGreaterThan(1000);
      expect(rebuilt).toEqual(old);
      const audit = (await model.pool.query(`SELECT requested_by, reason, options, started_at, finished_at FROM pulse.operations WHERE id = $1`, [id])).rows[0];
      expect(audit).toMatchObject({ requested_by: 'test', reason: 'fix: revenue by category double-counted', options: { mode: 'full', projection: 'sales' } });
      expect(audit.finished_at.getTime()).toBeGreaterThanOrEqual(audit.started_at.getTime());
    } finally {
      await projector.stop();
    }
  }, 150_000);

  it('rebuilds from a point in time, keeping the buckets before it and re-projecting after it, to the same totals', async () => {
    const projector = await runProjector(names, db.url, { retiredKeepSeconds: 3600 });
    try {
      await caughtUp(nc, names);
      // Taken once: the test may run across a minute boundary.
      const from = recentMinute(45);
      const reply = await command('rebuild', { projection: 'sales', mode: 'from-time', from, reason: 'late fix of a currency mapping', requestedBy: 'test' });
      await eventually(async () => ((await operation(reply.operation!.id)).status === 'completed' ? true : undefined), 60_000, 'the rebuild to complete');
      await caughtUp(nc, names);
      // Buckets before the cutoff were copied, the rest re-projected: together the same numbers.
      expect(await model.dumpVersion('sales', 2, 'value, events')).toEqual(await model.dumpVersion('sales', 1, 'value, events'));
      const version = (await model.pool.query<{ cutoff: Date }>(`SELECT cutoff FROM pulse.projection_versions WHERE projection = 'sales' AND version = 2`)).rows[0];
      expect(version.cutoff.toISOString()).toBe(from);
    } finally {
      await projector.stop();
    }
  }, 120_000);

  it('with reverify, decides every stored event again (validation, de-duplication) and reaches the same version, dead-lettering nothing twice', async () => {
    const js = jetstream(nc);
    // A re-sent copy of stored events and a poison message, beside the history: both must count as live decided.
    await producer.publishValidated(mixedTraffic(2_000, { minutes: 30, seed: 3 }));
    await js.publish(names.eventSubject('order.placed', 0), 'not json at all');
    const projector = await runProjector(names, db.url, { retiredKeepSeconds: 3600 });
    try {
      await caughtUp(nc, names);
      const deadLetters = async () => (await (await jetstreamManager(nc)).streams.info(names.deadLetterStream)).state.messages;
      const before = await deadLetters();
      expect(before).toBeGreaterThan(0);
      const reply = await command('rebuild', { projection: 'sales', mode: 'full', reverify: true, reason: 'suspected de-duplication bug', requestedBy: 'test' });
      await eventually(async () => ((await operation(reply.operation!.id)).status === 'completed' ? true : undefined), 60_000, 'the rebuild to complete');
      await caughtUp(nc, names);
      expect(await model.dumpVersion('sales', 2)).toEqual(await model.dumpVersion('sales', 1));
      const counted = (await model.pool.query<{ duplicates: string; dead_letters: string }>(`SELECT progress->>'duplicates' AS duplicates, progress->>'deadLetters' AS dead_letters FROM pulse.operations WHERE id = $1`, [reply.operation!.id])).rows[0];
      expect(Number(counted.duplicates)).toBeGreaterThan(0);
      expect(Number(counted.dead_letters)).toBe(1);
      expect(await deadLetters()).toBe(before);
    } finally {
      await projector.stop();
    }
  }, 120_000);

  it('cancels a rebuild: the half-built version goes, the served one stays, the audit record says so', async () => {
    const projector = await runProjector(names, db.url);
    try {
      await caughtUp(nc, names);
      const reply = await command('rebuild', { projection: 'traffic', mode: 'full', reason: 'try', maxEventsPerSecond: 500, requestedBy: 'test' });
      const id = reply.operation!.id;
      await eventually(async () => ((await operation(id)).status === 'running' ? true : undefined), 20_000, 'the rebuild to start');
      expect(await command('cancel', { id })).toMatchObject({ ok: true, operation: { status: 'cancelling' } });
      await eventually(async () => ((await operation(id)).status === 'cancelled' ? true : undefined), 20_000, 'the rebuild to be cancelled');
      expect(await served('traffic')).toBe(1);
      const schemas = await model.pool.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = 'rm_traffic_v2'`);
      expect(schemas.rows).toEqual([]);
      expect(await command('cancel', { id })).toMatchObject({ ok: false, status: 409, code: 'not_running' });
    } finally {
      await projector.stop();
    }
  }, 90_000);

  it('resumes a rebuild where it was after the projector running it is killed', async () => {
    const env = { NATS_URL, DATABASE_URL: db.url, PULSE_ROOT: names.root, PULSE_PARTITIONS: String(names.partitions), PULSE_TIMESCALE: 'off', PULSE_ACK_WAIT_MS: '1000', PULSE_RETIRED_KEEP_SECONDS: '3600' };
    let child = spawnApp('projector', env);
    try {
      await caughtUp(nc, names, 60_000);
      const reply = await command('rebuild', { projection: 'sales', mode: 'full', reason: 'crash test', maxEventsPerSecond: 4000, requestedBy: 'test' });
      const id = reply.operation!.id;
      await eventually(async () => {
        const progress = (await model.pool.query<{ events: string | null }>(`SELECT sum(events) AS events FROM pulse.checkpoints WHERE pipeline = $1`, [`rebuild-${id}`])).rows[0];
        return Number(progress.events ?? 0) > 2000 ? true : undefined;
      }, 30_000, 'the rebuild to be under way');
      await kill(child, 'SIGKILL');
      const before = Number((await model.pool.query<{ events: string }>(`SELECT sum(events) AS events FROM pulse.checkpoints WHERE pipeline = $1`, [`rebuild-${id}`])).rows[0].events);
      expect((await operation(id)).status).toBe('running');
      child = spawnApp('projector', env);
      await eventually(async () => ((await operation(id)).status === 'completed' ? true : undefined), 90_000, 'the resumed rebuild to complete');
      await caughtUp(nc, names, 60_000);
      expect(before).toBeLessThan(20_000);
      expect(await served('sales')).toBe(2);
      expect(await model.dumpVersion('sales', 2)).toEqual(await model.dumpVersion('sales', 1));
    } finally {
      await kill(child, 'SIGTERM');
    }
  }, 180_000);
});
