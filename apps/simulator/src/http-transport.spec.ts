import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { orderPlaced, pageViewed } from '@pulse/contracts/testing';
import { DeliveryError, HttpTransport, retryAfterMs } from './http-transport.js';
import type { Emission } from './traffic-model.js';

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface Received {
  headers: IncomingHttpHeaders;
  body: unknown;
}

/**
 * A stand-in for the API's HTTP answers, one scripted answer per request: it tests how the transport
 * reads statuses and headers. The real endpoint is covered by the API's own integration tests.
 */
async function scriptedApi(answers: Answer[]): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      const answer = answers.shift() ?? { status: 500 };
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

const batch: Emission[] = [
  { kind: 'valid', event: orderPlaced({ id: 'a' }), late: false },
  { kind: 'malformed', event: { specversion: '1.0', id: 'b', source: 's', type: 'order.shipped', time: '2026-11-28T10:00:00.000Z', dataversion: 1, data: {} }, late: false },
  { kind: 'valid', event: pageViewed({ id: 'c' }), late: false },
];

describe('delivering over HTTP', () => {
  let api: Awaited<ReturnType<typeof scriptedApi>> | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  it('posts a CloudEvents batch with the bearer token and reads which events were refused', async () => {
    api = await scriptedApi([{ status: 202, body: { accepted: 2, duplicateMessages: 0, rejected: [{ index: 1, id: 'b', code: 'unknown_type' }] } }]);
    const delivery = await new HttpTransport({ apiUrl: `${api.url}/`, token: 'T0KEN' }).deliver(batch);
    expect(delivery).toEqual({ rejected: [1], retries: 0 });
    const [request] = api.received;
    expect(request.headers['content-type']).toBe('application/cloudevents-batch+json');
    expect(request.headers.authorization).toBe('Bearer T0KEN');
    expect(request.body).toEqual(batch.map((e) => e.event));
  });

  it('waits as long as Retry-After asks on 503 and 429, backs off without it, then sends the same body again', async () => {
    api = await scriptedApi([{ status: 503, headers: { 'retry-after': '2' } }, { status: 429 }, { status: 202, body: { accepted: 3, rejected: [] } }]);
    const waits: number[] = [];
    const transport = new HttpTransport({ apiUrl: api.url, sleep: async (ms) => void waits.push(ms) });
    expect(await transport.deliver(batch)).toEqual({ rejected: [], retries: 2 });
    expect(waits[0]).toBe(2000);
    expect(waits[1]).toBeGreaterThanOrEqual(400);
    expect(waits[1]).toBeLessThanOrEqual(600);
    expect(api.received.map((r) => JSON.stringify(r.body))).toEqual(Array(3).fill(JSON.stringify(batch.map((e) => e.event))));
  });

  it('takes a 422 listing every event as a batch refused whole, and any other status as an error', async () => {
    api = await scriptedApi([
      { status: 422, body: { code: 'all_events_rejected', accepted: 0, rejected: [{ index: 0 }, { index: 1 }, { index: 2 }] } },
      { status: 401, body: { code: 'unauthorized', detail: 'a bearer token is required' } },
    ]);
    const transport = new HttpTransport({ apiUrl: api.url });
    expect(await transport.deliver(batch)).toEqual({ rejected: [0, 1, 2], retries: 0 });
    const failure = await transport.deliver(batch).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeliveryError);
    expect(failure).toMatchObject({ status: 401, message: expect.stringContaining('401 unauthorized: a bearer token is required') });
  });

  it('retries when nothing answers, and gives up after its attempts', async () => {
    const closed = await scriptedApi([]);
    await closed.close();
    const waits: number[] = [];
    const transport = new HttpTransport({ apiUrl: closed.url, maxAttempts: 3, sleep: async (ms) => void waits.push(ms) });
    await expect(transport.deliver(batch)).rejects.toThrow(/failed after 3 attempts/);
    expect(waits).toHaveLength(2);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-28T10:00:00.000Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Sat, 28 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});
