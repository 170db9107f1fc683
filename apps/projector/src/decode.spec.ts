import { orderPlaced } from '@pulse/contracts/testing';
import { ValidationMarks } from '@pulse/contracts/sdk';
import { decodeMessages, eventTimeMs } from './decode.js';

describe("an event's time", () => {
  it('reads as Date.parse reads it, in the SDK form and every other', () => {
    // Every 7 hours, 13 minutes, 17.389 seconds over 2023-2029: every day of the month, leap days included.
    const times: string[] = [];
    for (let ms = Date.UTC(2023, 0, 1); ms < Date.UTC(2029, 0, 1); ms += 25_997_389) times.push(new Date(ms).toISOString());
    times.push(
      '2028-02-29T23:59:59.999Z',
      '2026-02-29T10:00:00.000Z', // no such day: NaN for both
      '2026-04-31T10:00:00.000Z',
      '2026-11-28T24:00:00.000Z',
      '2026-11-28T10:60:00.000Z',
      '2026-11-28T10:00:00Z',
      '2026-11-28T10:00:00.123+02:00',
      '2026-11-28T10:00:00.1234Z',
      '2026-11-28t10:00:00.000Z',
      '2026-11-28T1a:00:00.000Z',
      '2026/11/28T10:00:00.000Z',
      '',
    );
    for (const t of times) expect([t, eventTimeMs(t)]).toEqual([t, Date.parse(t)]);
  });
});

describe('decoding stored messages with validation marks', () => {
  const marks = new ValidationMarks('a key shared by API and projector');
  const subject = 'pulse.events.orders.order.placed.0';
  const limits = { maxFutureSkewMs: 300_000, horizonMs: 7 * 86_400_000 };
  const storedMs = Date.parse('2026-11-28T10:00:05.000Z');
  // Breaks its contract (negative money) but not the decoder: shows whether the message was validated here.
  const body = Buffer.from(JSON.stringify([orderPlaced({ id: 'a', time: '2026-11-28T10:00:00.000Z' }), orderPlaced({ id: 'b', time: '2026-11-28T10:00:01.000Z', data: { totalMinor: -5 } })]));
  const message = (mark?: string, data: Uint8Array = body, on = subject) => ({ seq: 7, subject: on, storedMs, data, events: 2, mark });
  const decode = (m: ReturnType<typeof message>, key: ValidationMarks | null = marks) => decodeMessages([m], limits, '2026-11-28T10:00:06.000Z', key ?? undefined);

  it('takes the events of a message the API marked with the shared key as validated', () => {
    const { events, deadLetters, validated } = decode(message(marks.sign(subject, body)));
    expect(events.map((e) => e.event.id)).toEqual(['a', 'b']);
    expect([deadLetters, validated]).toEqual([[], 0]);
  });

  it('validates every event again without a mark, with a mark of another key, subject or body, and without the key', () => {
    const tampered = Buffer.from(body.toString().replace('"a"', '"c"'));
    const cases = [
      message(),
      message(new ValidationMarks('another key, another deployment').sign(subject, body)),
      message(marks.sign('pulse.events.orders.order.placed.1', body)),
      message(marks.sign(subject, body), tampered),
      message(marks.sign(subject, body).replace(/^[^.]+/, 'older-contracts0')),
    ];
    for (const m of cases) {
      const { events, deadLetters, validated } = decode(m);
      expect([events.length, deadLetters.map((d) => [d.eventId, d.code]), validated]).toEqual([1, [['b', 'invalid_data']], 2]);
    }
    expect(decode(message(marks.sign(subject, body)), null).validated).toBe(2);
  });
});
