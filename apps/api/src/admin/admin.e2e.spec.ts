import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { publishDeadLetters } from '@pulse/contracts/sdk';
import { orderPlaced, recentMinute, useClock } from '@pulse/contracts/testing';
import { io } from 'socket.io-client';
import { caughtUp } from '../../../../test/support/projector.js';
import { eventually } from '../../../../test/support/services.js';
import { mixedTraffic } from '../../../../test/support/traffic.js';
import { auth, TOKENS } from '../testing/api.js';
import { startPulse, type RunningPulse } from '../testing/pulse.js';

interface Operation {
  id: number;
  status: string;
  version: number | null;
  progress: { processedEvents?: number; remainingEvents?: number; published?: number } | null;
}

describe('admin commands over HTTP and the live socket', () => {
  let pulse: RunningPulse;
  let names: PulseNames;
  let nc: NatsConnection;
  let url: string;
  let model: RunningPulse['model'];

  beforeAll(async () => {
    useClock(recentMinute(30));
    pulse = await startPulse();
    ({ names, nc, url, model } = pulse);
    await pulse.producer.publishValidated(mixedTraffic(8000, { minutes: 20 }));
    await caughtUp(nc, names);
  }, 60_000);
  afterAll(() => pulse.stop());

  const call = async (method: string, path: string, body?: unknown, token = TOKENS.admin) => {
    const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...auth(token) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('rebuilds a projection from the console API, refuses a second one, reports progress on the socket, and serves the new version', async () => {
    const socket = io(`${url}/live`, { auth: { token: TOKENS.admin }, transports: ['websocket'], forceNew: true });
    const progress: Array<{ id: number; status: string }> = [];
    socket.on('operation', (p: { id: number; status: string }) => progress.push(p));
    expect(await socket.emitWithAck('subscribe-operations', {})).toEqual({ ok: true });

    const started = await call('POST', '/api/v1/admin/rebuilds', { projection: 'funnel', mode: 'full', reason: 'new conversion metric' });
    expect(started.status).toBe(202);
    const id = (started.body as unknown as Operation).id;
    const again = await call('POST', '/api/v1/admin/rebuilds', { projection: 'funnel', reason: 'again' });
    expect(again).toMatchObject({ status: 409, body: { code: 'rebuild_running' } });
    expect((await call('POST', '/api/v1/admin/rebuilds', { projection: 'funnel' })).body).toMatchObject({ code: 'invalid_request', detail: expect.stringContaining('reason') });

    const done = await eventually(async () => {
      const { body } = await call('GET', `/api/v1/admin/rebuilds/${id}`);
      return (body as unknown as Operation).status === 'completed' ? (body as unknown as Operation) : undefined;
    }, 60_000, 'the rebuild to complete');
    expect(done.progress?.processedEvents).toBeGreaterThan(1000);
    expect(done.progress?.remainingEvents).toBe(0);
    await eventually(() => (progress.some((p) => p.id === id && p.status === 'completed') ? true : undefined), 5000, 'the completion event');
    const status = await call('GET', '/api/v1/admin/projections');
    const funnel = (status.body.projections as Array<{ projection: string; servedVersion: number }>).find((p) => p.projection === 'funnel');
    expect(funnel?.servedVersion).toBe(2);
    const history = await call('GET', '/api/v1/admin/rebuilds?kind=rebuild');
    expect((history.body.rows as Operation[]).map((r) => r.id)).toContain(id);
    socket.disconnect();
  });

  it('keeps admin actions from operators, on HTTP and on the socket', async () => {
    expect((await call('GET', '/api/v1/admin/projections', undefined, TOKENS.operator)).status).toBe(403);
    expect((await call('POST', '/api/v1/admin/rebuilds', { projection: 'sales', reason: 'nope' }, TOKENS.operator)).status).toBe(403);
    const socket = io(`${url}/live`, { auth: { token: TOKENS.operator }, transports: ['websocket'], forceNew: true });
    expect(await socket.emitWithAck('subscribe-operations', {})).toMatchObject({ ok: false, code: 'forbidden' });
    socket.disconnect();
  });

  it('lists and inspects dead letters, and counts re-submitted events once however often they are re-submitted', async () => {
    // Two events an older contract refused: one is valid under today's contract, one is still broken.
    const fixed = orderPlaced({ id: 'resubmit-me', time: new Date().toISOString(), data: { currency: 'XTS', totalMinor: 4200 } });
    const broken = { ...orderPlaced({ id: 'still-broken' }), data: { orderId: 'x' } };
    const receivedAt = new Date().toISOString();
    await publishDeadLetters(jetstream(nc), names, [
      { stage: 'ingest', code: 'unknown_version', reason: 'dataversion 2 of order.placed is not known', body: JSON.stringify(fixed), eventId: fixed.id, eventType: 'order.placed', receivedAt },
      { stage: 'ingest', code: 'invalid_data', reason: 'data.items is required', body: JSON.stringify(broken), eventId: broken.id, eventType: 'order.placed', receivedAt },
    ]);
    const list = await call('GET', '/api/v1/admin/dead-letters?stage=ingest');
    const rows = list.body.rows as Array<{ seq: number; eventId: string; code: string }>;
    const seqOf = (eventId: string) => rows.find((r) => r.eventId === eventId)!.seq;
    expect(rows.map((r) => r.code)).toEqual(['invalid_data', 'unknown_version']);
    const inspected = await call('GET', `/api/v1/admin/dead-letters/${seqOf('resubmit-me')}`);
    expect(JSON.parse(inspected.body.body as string)).toEqual(fixed);

    const first = await call('POST', '/api/v1/admin/dead-letters/resubmit', { seqs: [seqOf('resubmit-me'), seqOf('still-broken')] });
    expect(first.body).toMatchObject({ resubmitted: 2, accepted: 1, rejected: 1 });
    const second = await call('POST', '/api/v1/admin/dead-letters/resubmit', { seqs: [seqOf('resubmit-me')] });
    expect(second.body).toMatchObject({ accepted: 1 });
    await caughtUp(nc, names);
    expect(await model.total('sales', 'orders', '1m', { currency: 'XTS' })).toBe(1);
    expect(await model.total('sales', 'revenue', '1m', { currency: 'XTS' })).toBe(4200);
    const after = await call('GET', '/api/v1/admin/dead-letters?stage=ingest');
    expect((after.body.rows as Array<{ eventId: string; resubmittedAt: string | null }>).find((r) => r.eventId === 'resubmit-me')?.resubmittedAt).toEqual(expect.any(String));
  });

  it('replays a range of stored events of one type to a downstream subject, with an audit record', async () => {
    const received: unknown[] = [];
    const sub = nc.subscribe('downstream.orders-replay', {
      callback: (_e, m) => {
        received.push(...m.json<unknown[]>());
      },
    });
    const expected = (await model.pool.query<{ n: string }>(`SELECT sum(events) AS n FROM rm_sales_v1.facts_1m WHERE metric = 'orders'`)).rows[0];
    const started = await call('POST', '/api/v1/admin/replays', { subject: 'downstream.orders-replay', fromSeq: 1, types: ['order.placed'], ratePerSecond: 20000, reason: 'new fraud service backfill' });
    expect(started.status).toBe(202);
    const id = (started.body as unknown as Operation).id;
    const done = await eventually(async () => {
      const { body } = await call('GET', `/api/v1/admin/rebuilds/${id}`);
      return (body as unknown as Operation).status === 'completed' ? (body as unknown as Operation) : undefined;
    }, 30_000, 'the replay to complete');
    await eventually(() => (received.length === done.progress?.published ? true : undefined), 5000, 'every replayed event');
    // Every order placed in the store, duplicates included (a replay re-sends what is stored), and nothing else.
    expect(received.length).toBeGreaterThanOrEqual(Number(expected.n));
    expect(received.every((e) => (e as { type: string }).type === 'order.placed')).toBe(true);
    expect((await call('POST', '/api/v1/admin/replays', { subject: `${names.root}.events.x`, fromSeq: 1, reason: 'loop' })).body).toMatchObject({ code: 'invalid_replay' });
    sub.unsubscribe();
  });
});
