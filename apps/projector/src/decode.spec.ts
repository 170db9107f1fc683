import { eventTimeMs } from './decode.js';

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
