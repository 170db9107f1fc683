import { orderPlaced } from '@pulse/contracts/testing';
import { io, type Socket } from 'socket.io-client';
import { eventually } from '../../../../test/support/services.js';
import type { Point, SeriesResult } from '../read-models/series.js';
import { auth, TOKENS } from '../testing/api.js';
import { startPulse, type RunningPulse } from '../testing/pulse.js';

/** What a live client shows: the snapshot, with every update's buckets laid over it. */
class LiveChart {
  readonly points = new Map<string, Point>();
  revision = 0;
  updates = 0;

  constructor(readonly socket: Socket, readonly id: string) {
    socket.on('update', (u: SeriesResult & { id: string }) => {
      if (u.id !== this.id) return;
      this.updates++;
      this.revision = Math.max(this.revision, u.revision);
      for (const p of u.series[0]?.points ?? []) this.points.set(p.t, p);
    });
  }

  async subscribe(windowSeconds = 600): Promise<void> {
    const ack = (await this.socket.emitWithAck('subscribe', { id: this.id, metric: 'orders', grain: '1s', windowSeconds, lastRevision: this.revision })) as { ok: boolean; snapshot: SeriesResult; detail?: string };
    if (!ack.ok) throw new Error(ack.detail);
    // A snapshot replaces what the client had: it is complete, so nothing missed stays missing.
    this.points.clear();
    for (const p of ack.snapshot.series[0].points) this.points.set(p.t, p);
    this.revision = Math.max(this.revision, ack.snapshot.revision);
  }

  total(): number {
    return [...this.points.values()].reduce((s, p) => s + (p.value ?? 0), 0);
  }
}

const connect = (url: string, token: string) => io(`${url}/live`, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });

describe('live push end to end: HTTP ingestion, NATS, projector, PostgreSQL, Socket.IO', () => {
  let pulse: RunningPulse;
  let url: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    pulse = await startPulse({ apiEnv: { PULSE_INGEST_EVENTS_PER_SECOND: '1000', PULSE_INGEST_BURST: '2000' } });
    ({ url } = pulse);
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await pulse.stop();
  });

  const publish = async (events: unknown[], token = TOKENS.producer) => {
    const res = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json', ...auth(token) }, body: JSON.stringify(events) });
    if (res.status !== 202) throw new Error(`ingestion answered ${res.status}: ${await res.text()}`);
  };
  const nowOrder = (id: string) => orderPlaced({ id, time: new Date().toISOString() });
  const socket = (token = TOKENS.operator) => {
    const s = connect(url, token);
    sockets.push(s);
    return s;
  };

  it('pushes a change to a subscribed client when an event is published through the API', async () => {
    const chart = new LiveChart(socket(), 'orders-1s');
    await chart.subscribe();
    const before = chart.total();
    await publish([nowOrder('live-1'), nowOrder('live-2')]);
    await eventually(() => (chart.total() === before + 2 ? true : undefined), 10_000, 'the pushed update');
    expect(chart.updates).toBeGreaterThan(0);
    expect(chart.revision).toBeGreaterThan(0);
  });

  it('gives a client that was disconnected while events flowed exactly what a connected client has', async () => {
    const steady = new LiveChart(socket(), 'steady');
    const blinking = new LiveChart(connect(url, TOKENS.operator), 'blinking');
    sockets.push(blinking.socket);
    await steady.subscribe();
    await blinking.subscribe();

    for (let round = 0; round < 6; round++) {
      if (round === 2) blinking.socket.disconnect();
      await publish(Array.from({ length: 25 }, (_, i) => nowOrder(`flow-${round}-${i}`)));
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(blinking.socket.connected).toBe(false);
    blinking.socket.connect();
    await eventually(() => (blinking.socket.connected ? true : undefined), 5000, 'reconnection');
    await blinking.subscribe();

    const res = await fetch(`${url}/api/v1/series?metric=orders&grain=1s&from=${new Date(Date.now() - 600_000).toISOString()}&to=${new Date(Date.now() + 2000).toISOString()}`, { headers: auth(TOKENS.operator) });
    const truth = (await res.json()) as SeriesResult;
    const expected = truth.series[0].points.reduce((s, p) => s + (p.value ?? 0), 0);
    expect(expected).toBeGreaterThanOrEqual(152);
    await eventually(() => (steady.total() === expected && blinking.total() === expected ? true : undefined), 10_000, 'both clients to settle');
    const values = (c: LiveChart) => [...c.points.values()].filter((p) => p.value).map((p) => [p.t, p.value]).sort();
    expect(values(blinking)).toEqual(values(steady));
  });

  it('refuses the socket without a token (401) and with a producer token (403)', async () => {
    const refused = (token?: string) =>
      new Promise<{ code: string; status: number }>((resolve) => {
        const s = io(`${url}/live`, { auth: token ? { token } : {}, transports: ['websocket'], reconnection: false, forceNew: true });
        sockets.push(s);
        s.on('connect_error', (e: Error & { data?: { code: string; status: number } }) => resolve(e.data!));
      });
    expect(await refused()).toEqual({ code: 'unauthenticated', status: 401 });
    expect(await refused('not-a-token-at-all-xxxx')).toEqual({ code: 'unauthenticated', status: 401 });
    expect(await refused(TOKENS.producer)).toEqual({ code: 'forbidden', status: 403 });
  });

  it('answers a bad subscription with a clear error', async () => {
    const s = socket();
    const ack = (await s.emitWithAck('subscribe', { id: 'x', metric: 'orders', grain: '1s', windowSeconds: 60, groupBy: ['channel'] })) as { ok: boolean; code: string; detail: string };
    expect(ack).toEqual({ ok: false, code: 'dimension_not_allowed', detail: expect.stringContaining('1s buckets keep only the currency') });
  });

  it.each<[string, Record<string, string>, string, string, number, string]>([
    ['no token', {}, 'GET', '/api/v1/metrics', 401, 'unauthenticated'],
    ['an unknown token', auth('wrong-token-wrong-token'), 'GET', '/api/v1/metrics', 401, 'unauthenticated'],
    ['a producer reading', auth(TOKENS.producer), 'GET', '/api/v1/metrics', 403, 'forbidden'],
    ['an operator publishing', auth(TOKENS.operator), 'POST', '/api/v1/events', 403, 'forbidden'],
    ['an unknown metric', auth(TOKENS.operator), 'GET', '/api/v1/series?metric=profit&grain=1m&from=2026-11-28T00:00:00Z&to=2026-11-28T01:00:00Z', 400, 'unknown_metric'],
    ['a missing parameter', auth(TOKENS.operator), 'GET', '/api/v1/series?metric=orders&grain=1m&from=2026-11-28T00:00:00Z', 400, 'invalid_request'],
    ['an unknown parameter', auth(TOKENS.operator), 'GET', '/api/v1/funnel?from=2026-11-28T00:00:00Z&to=2026-11-28T01:00:00Z&colour=red', 400, 'invalid_request'],
    ['too many points', auth(TOKENS.operator), 'GET', '/api/v1/series?metric=orders&grain=1s&from=2026-11-28T00:00:00Z&to=2026-11-28T12:00:00Z', 400, 'too_many_points'],
  ])('answers %s: %s %s → %s', async (_what, headers, method, path, status, code) => {
    const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body: method === 'POST' ? '[]' : undefined });
    expect(res.status).toBe(status);
    const problem = (await res.json()) as { code: string; detail: string };
    expect(problem.code).toBe(code);
    expect(problem.detail.length).toBeGreaterThan(10);
  });

  it('answers a producer over its rate with 429 and Retry-After, without touching another producer', async () => {
    const batch = (prefix: string) => Array.from({ length: 1500 }, (_, i) => nowOrder(`${prefix}-${i}`));
    await publish(batch('burst-a'));
    const over = await fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth(TOKENS.producer) }, body: JSON.stringify(batch('burst-b')) });
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await over.json()) as { code: string }).code).toBe('rate_limited');
    await publish(batch('other'), TOKENS.otherProducer);
  });
});

describe('live push pacing', () => {
  let pulse: RunningPulse;
  const sockets: Socket[] = [];
  // Long enough that "waited for the interval" and "pushed at once" cannot be confused: on a clock of its
  // own the push loop would have held the first change for up to 6 s, over 2 s two times in three.
  const intervalMs = 6000;

  beforeAll(async () => {
    pulse = await startPulse({ apiEnv: { PULSE_PUSH_INTERVAL_MS: String(intervalMs) } });
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await pulse.stop();
  });

  const publish = async (id: string) => {
    const res = await fetch(`${pulse.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json', ...auth(TOKENS.producer) }, body: JSON.stringify([orderPlaced({ id, time: new Date().toISOString() })]) });
    if (res.status !== 202) throw new Error(`ingestion answered ${res.status}: ${await res.text()}`);
  };

  it('pushes a change after a quiet interval at once, and the next one an interval after that push', async () => {
    const s = connect(pulse.url, TOKENS.operator);
    sockets.push(s);
    const chart = new LiveChart(s, 'paced');
    // Nothing pushed yet on this API: the spell before the first change is quiet.
    await chart.subscribe();

    const firstSent = Date.now();
    await publish('paced-1');
    await eventually(() => (chart.total() === 1 ? true : undefined), intervalMs, 'the first push');
    const firstPushed = Date.now();
    await publish('paced-2');
    await eventually(() => (chart.total() === 2 ? true : undefined), 3 * intervalMs, 'the second push');
    const secondPushed = Date.now();

    // At once: well inside the interval, which a push loop on its own clock would have made it wait for.
    expect(firstPushed - firstSent).toBeLessThan(intervalMs / 3);
    // Still at most one push per interval.
    expect(secondPushed - firstPushed).toBeGreaterThanOrEqual(intervalMs - 500);
  });
});
