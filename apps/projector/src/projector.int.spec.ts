import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { at, orderPlaced, pageViewed, recentMinute, useClock } from '@pulse/contracts/testing';
import { migratedDatabase } from '../../../test/support/database.js';
import { caughtUp, readModel, runProjector } from '../../../test/support/projector.js';
import { eventually, isolatedNats } from '../../../test/support/services.js';
import { readStream } from '../../../test/support/streams.js';

describe('projector against real NATS and PostgreSQL', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let producer: PulseProducer;
  let projector: Awaited<ReturnType<typeof runProjector>>;
  let model: ReturnType<typeof readModel>;

  beforeEach(async () => {
    useClock(recentMinute(30));
    ({ names, nc, dispose: disposeNats } = await isolatedNats(2));
    await ensureStreams(await jetstreamManager(nc), names);
    db = await migratedDatabase();
    producer = new PulseProducer(jetstream(nc), { names });
    projector = await runProjector(names, db.url);
    model = readModel(db.url);
  });
  afterEach(async () => {
    await projector.stop();
    await model.close();
    await db.dispose();
    await disposeNats();
  });

  it('counts a batch delivered twice, and the same events re-published a day later, once', async () => {
    const orders = Array.from({ length: 50 }, (_, i) => orderPlaced({ id: `o-${i}`, time: at(i), data: { totalMinor: 100 + i } }));
    await producer.publishValidated(orders);
    await producer.publishValidated(orders); // a retry inside JetStream's window: stored once
    // A day later the producer re-sends them mixed with new ones: a different message, so JetStream stores it.
    const resent = [...orders.slice(0, 20), orderPlaced({ id: 'o-new', time: at(100), data: { totalMinor: 1000 } })];
    const report = await producer.publishValidated(resent);
    expect(report.duplicateMessages).toBe(0);
    await caughtUp(nc, names);

    const expectedRevenue = orders.reduce((s, o) => s + o.data.totalMinor, 0) + 1000;
    expect(await model.total('sales', 'orders')).toBe(51);
    expect(await model.total('sales', 'revenue', '1m')).toBe(expectedRevenue);
    expect(await model.total('sales', 'revenue', '1s')).toBe(expectedRevenue);
    expect(await model.total('sales', 'revenue', '1h')).toBe(expectedRevenue);
    expect(await model.total('sales', 'revenue', '1d')).toBe(expectedRevenue);
    const { rows } = await model.pool.query<{ d: string }>(`SELECT sum(duplicates) AS d FROM pulse.checkpoints WHERE pipeline = 'live'`);
    expect(Number(rows[0].d)).toBe(20);
  });

  it('puts late (minutes and hours) and out-of-order events in the bucket of their event time and records the revision', async () => {
    // One identity-hashed partition decides lateness; pick ids that land in partition 0 for a clear story.
    await producer.publishValidated([orderPlaced({ id: 'a', time: at(10), data: { totalMinor: 500 } }), orderPlaced({ id: 'b', time: at(200), data: { totalMinor: 700 } })]);
    await caughtUp(nc, names);
    // Ten minutes of event time later, an order of 10:00:30 arrives: the 10:00 minute was final.
    // And one dated three hours before the rest arrives in the same batch.
    await producer.publishValidated([orderPlaced({ id: 'c', time: at(800) }), orderPlaced({ id: 'late', time: at(30), data: { totalMinor: 250 } }), orderPlaced({ id: 'hours-late', time: at(-3 * 3600 + 5), data: { totalMinor: 400 } })]);
    await caughtUp(nc, names);
    expect(await model.bucket('sales', 'revenue', '1m', at(-3 * 3600))).toEqual({ value: 400, events: 1, lateEvents: 1, revisions: 1 });

    const minute = await model.bucket('sales', 'revenue', '1m', at(0));
    expect(minute.value).toBe(750);
    expect(minute.events).toBe(2);
    // Whether 'late' was late depends on what its own partition had seen, so find its partition's view.
    const { rows } = await model.pool.query<{ late: string; revisions: string }>(
      `SELECT (SELECT sum(late_events) FROM rm_sales_v1.facts_1m WHERE metric = 'revenue') AS late,
              (SELECT count(*) FROM rm_sales_v1.corrections WHERE metric = 'revenue' AND grain = '1m') AS revisions`,
    );
    expect(Number(rows[0].late)).toBe(Number(rows[0].revisions));
    expect(await model.total('sales', 'revenue', '1h')).toBe(500 + 700 + 2500 + 250 + 400);
  });

  it('stopped while busy, writes the hourly and daily rows it held back, leaving no hours for the next owner to recompute', async () => {
    await projector.stop();
    projector = await runProjector(names, db.url, { maxBatchMessages: 2 });
    const small = new PulseProducer(jetstream(nc), { names, maxEventsPerMessage: 20 });
    // Enough two-message batches that it is still busy when stopped, however fast the machine.
    await small.publishValidated(Array.from({ length: 20_000 }, (_, i) => orderPlaced({ id: `busy-${i}`, time: at(i % 600), data: { totalMinor: 100 } })));
    const committed = async () => Number((await model.pool.query<{ e: string | null }>(`SELECT sum(events) AS e FROM pulse.checkpoints`)).rows[0].e ?? 0);
    await eventually(async () => ((await committed()) > 1000 ? true : undefined), 30_000, 'a thousand orders committed');

    await projector.stop();

    const listed = await model.pool.query<{ n: string }>(`SELECT count(*) AS n FROM pulse.checkpoints WHERE rollup_hours <> '{}'`);
    expect(Number(listed.rows[0].n)).toBe(0);
    const minutes = await model.total('sales', 'orders', '1m');
    expect(minutes).toBeLessThan(20_000);
    expect(await model.total('sales', 'orders', '1h')).toBe(minutes);
    expect(await model.total('sales', 'orders', '1d')).toBe(minutes);
    projector = await runProjector(names, db.url);
  });

  it('dead-letters a poison message and an invalid event, and keeps going', async () => {
    const js = jetstream(nc);
    const h = headers();
    h.set('Content-Type', 'application/cloudevents-batch+json');
    await js.publish(`${names.root}.events.orders.order.placed.0`, 'this is not json', { headers: h });
    const bad = { ...orderPlaced({ id: 'bad' }), data: { orderId: 'x' } };
    await js.publish(`${names.root}.events.orders.order.placed.1`, JSON.stringify([orderPlaced({ id: 'ok-1' }), bad, pageViewed({ id: 'wrong-subject-but-valid' })]));
    await js.publish(`${names.root}.events.orders.order.placed.0`, JSON.stringify([orderPlaced({ id: 'future', time: '2099-01-01T00:00:00Z' })]));
    await producer.publishValidated([orderPlaced({ id: 'ok-2' })]);
    await caughtUp(nc, names);

    expect(await model.total('sales', 'orders')).toBe(2);
    expect(await model.total('traffic', 'page_views')).toBe(1);
    const letters = await readStream(nc, names.deadLetterStream);
    expect(letters.map((l) => [l.headers['Pulse-Stage'], l.headers['Pulse-Reason-Code']]).sort()).toEqual([
      ['projector', 'future_event_time'],
      ['projector', 'invalid_data'],
      ['projector', 'malformed_json'],
    ]);
    const malformed = letters.find((l) => l.headers['Pulse-Reason-Code'] === 'malformed_json')!;
    expect(malformed.body).toBe('this is not json');
    expect(malformed.headers['Pulse-Original-Subject']).toBe(`${names.root}.events.orders.order.placed.0`);
    const { rows } = await model.pool.query<{ d: string }>(`SELECT sum(dead_letters) AS d FROM pulse.checkpoints WHERE pipeline = 'live'`);
    expect(Number(rows[0].d)).toBe(3);
  });
});
