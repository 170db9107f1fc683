import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { orderPlaced, pageViewed, stockReceived } from '@pulse/contracts/testing';
import { VALIDATED_HEADER, ValidationMarks } from '@pulse/contracts/sdk';
import { isolatedNats } from '../../../../test/support/services.js';
import { readStream, storedEvents } from '../../../../test/support/streams.js';
import { auth, startApi, TOKENS } from '../testing/api.js';
import type { IngestResult } from './ingest.js';

interface ProblemBody {
  status: number;
  code: string;
  detail: string;
}

describe('POST /api/v1/events against a real nats-server', () => {
  let app: NestExpressApplication;
  let url: string;
  let names: PulseNames;
  let nc: NatsConnection;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ names, nc, dispose } = await isolatedNats());
    ({ app, url } = await startApi(names, { maxBodyBytes: 64 * 1024, maxBatchEvents: 100 }));
  });
  afterEach(async () => {
    await app.close();
    await dispose();
  });

  const post = (body: unknown, contentType = 'application/cloudevents-batch+json') =>
    fetch(`${url}/api/v1/events`, { method: 'POST', headers: { 'content-type': contentType, ...auth(TOKENS.producer) }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  const deadLetters = () => readStream(nc, names.deadLetterStream);

  it('stores a batch once even when the producer sends it twice', async () => {
    const batch = [orderPlaced({ id: 'o-1' }), pageViewed({ id: 'p-1' }), pageViewed({ id: 'p-2' }), stockReceived({ id: 's-1' })];
    const first = await post(batch);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ accepted: 4, duplicateMessages: 0, rejected: [] });
    const second = await post(batch);
    expect(second.status).toBe(202);
    expect(((await second.json()) as IngestResult).duplicateMessages).toBeGreaterThan(0);

    const stored = await storedEvents(nc, names.eventsStream);
    expect(stored.map((e) => e.id).sort()).toEqual(['o-1', 'p-1', 'p-2', 's-1']);
    const subjects = (await readStream(nc, names.eventsStream)).map((m) => m.subject);
    expect(subjects.every((s) => /^t[0-9a-f]+\.events\.(orders|clickstream|inventory)\.[a-z_]+\.[a-z_]+\.[01]$/.test(s))).toBe(true);
  });

  it('stores each accepted event as the bytes the producer sent, however they were spaced', async () => {
    const good = [pageViewed({ id: 'p-1', data: { path: '/häuser/🛒, "quoted" ]' } }), pageViewed({ id: 'p-2' })];
    const body = `[\n  ${JSON.stringify(good[0], null, 1)} ,\n${JSON.stringify(orderPlaced({ id: 'bad', data: { totalMinor: -5 } }))},\t${JSON.stringify(good[1])}\n]`;
    const res = await post(body);
    expect(res.status).toBe(202);
    expect(((await res.json()) as IngestResult).accepted).toBe(2);

    const messages = await readStream(nc, names.eventsStream);
    const stored = messages.flatMap((m) => JSON.parse(m.body) as unknown[]);
    expect(stored).toEqual(expect.arrayContaining(good));
    expect(stored).toHaveLength(2);
    const first = messages.find((m) => m.body.includes('"p-1"'));
    expect(first?.body).toContain(JSON.stringify(good[0], null, 1));
  });

  it('marks each message of events it validated with the key it shares with the projectors', async () => {
    const key = 'a key shared by API and projector';
    const marked = await startApi(names, {}, { PULSE_VALIDATION_KEY: key });
    try {
      const res = await fetch(`${marked.url}/api/v1/events`, { method: 'POST', headers: { 'content-type': 'application/cloudevents-batch+json', ...auth(TOKENS.producer) }, body: JSON.stringify([orderPlaced({ id: 'm-1' }), pageViewed({ id: 'm-2' })]) });
      expect(res.status).toBe(202);
    } finally {
      await marked.app.close();
    }
    const messages = await readStream(nc, names.eventsStream);
    const marks = new ValidationMarks(key);
    expect(messages.map((m) => marks.verifies(m.subject, Buffer.from(m.body), m.headers[VALIDATED_HEADER]))).toEqual([true, true]);
    expect(messages.map((m) => new ValidationMarks('another deployment key').verifies(m.subject, Buffer.from(m.body), m.headers[VALIDATED_HEADER]))).toEqual([false, false]);
  });

  it('accepts the valid part of a batch and reports each rejected event with its index, id and errors', async () => {
    const res = await post([orderPlaced({ id: 'good' }), orderPlaced({ id: 'bad', data: { totalMinor: -5, currency: 'eur' } })]);
    expect(res.status).toBe(202);
    const body = (await res.json()) as IngestResult;
    expect(body.accepted).toBe(1);
    expect(body.rejected).toEqual([
      {
        index: 1,
        id: 'bad',
        type: 'order.placed',
        code: 'invalid_data',
        reason: expect.stringContaining('data.totalMinor must be >= 0'),
        errors: [
          { field: 'data.totalMinor', message: 'must be >= 0' },
          { field: 'data.currency', message: 'must match pattern "^[A-Z]{3}$"' },
        ],
      },
    ]);
    const [letter] = await deadLetters();
    expect(letter.subject).toBe(`${names.root}.dlq.ingest.invalid_data`);
    expect(letter.headers['Pulse-Event-Id']).toBe('bad');
    expect(letter.headers['Pulse-Batch-Index']).toBe('1');
    expect(letter.headers['Pulse-Reason']).toContain('data.totalMinor must be >= 0');
    expect(JSON.parse(letter.body).data.totalMinor).toBe(-5);
  });

  it.each([
    ['malformed JSON', () => post('[{"specversion": "1.0",', 'application/json'), 400, 'malformed_json'],
    ['a wrong content type', () => post('id,type\n1,order.placed', 'text/csv'), 415, 'unsupported_media_type'],
    ['an oversized body', () => post('x'.repeat(70 * 1024), 'application/json'), 413, 'body_too_large'],
    ['an unknown type', () => post({ ...orderPlaced(), type: 'order.shipped' }, 'application/cloudevents+json'), 422, 'unknown_type'],
    ['an unknown version', () => post(orderPlaced({ dataversion: 9 }), 'application/cloudevents+json'), 422, 'unknown_version'],
    ['a batch sent as a single event', () => post([orderPlaced()], 'application/cloudevents+json'), 400, 'not_a_single_event'],
  ])('answers %s with a clear 4xx and keeps it in the dead-letter stream', async (_what, send, status, code) => {
    const res = await send();
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await res.json()) as ProblemBody;
    expect(problem).toMatchObject({ status, code, detail: expect.any(String) });
    expect(problem.detail.length).toBeGreaterThan(20);

    const letters = await deadLetters();
    expect(letters).toHaveLength(1);
    expect(letters[0].subject).toBe(`${names.root}.dlq.ingest.${code}`);
    expect(letters[0].headers['Pulse-Reason']).toBe(problem.detail);
    expect(letters[0].body.length).toBeGreaterThan(0);
    expect(await storedEvents(nc, names.eventsStream)).toEqual([]);
  });

  it('keeps a retried rejected request as one dead letter', async () => {
    await post('{oops', 'application/json');
    await post('{oops', 'application/json');
    expect(await deadLetters()).toHaveLength(1);
  });
});
