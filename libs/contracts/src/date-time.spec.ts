import { fullFormats } from 'ajv-formats/dist/formats.js';
import { dateTimeFormat } from './date-time.js';

const ajvFormats = (fullFormats['date-time'] as { validate: (s: string) => boolean }).validate;

describe('the date-time format', () => {
  it('decides as ajv-formats does over 130 years of toISOString() times, with and without milliseconds', () => {
    const checked: string[] = [];
    for (let ms = Date.UTC(1970, 0, 1); ms < Date.UTC(2100, 0, 1); ms += 37 * 3_600_000 + 61_001) {
      const iso = new Date(ms).toISOString();
      checked.push(iso, iso.replace(/\.\d{3}Z$/, 'Z'));
    }
    for (const s of checked) expect([s, dateTimeFormat.validate(s)]).toEqual([s, ajvFormats(s)]);
    expect(checked.every((s) => dateTimeFormat.validate(s))).toBe(true);
  });

  it('decides as ajv-formats does on the edge cases and other forms', () => {
    const cases = [
      '2024-02-29T12:00:00.000Z', '2023-02-29T12:00:00.000Z', '2000-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2026-04-31T00:00:00Z', '2026-12-31T23:59:59.999Z',
      '2026-00-10T00:00:00Z', '2026-13-10T00:00:00Z', '2026-11-00T00:00:00Z', '2026-11-28T24:00:00Z', '2026-11-28T23:60:00Z', '2016-12-31T23:59:60Z',
      '2026-11-28t10:00:00z', '2026-11-28T10:00:00+01:00', '2026-11-28T10:00:00.5Z', '2026-11-28 10:00:00Z', '2026-11-28T10:00:00', '2026-11-28',
      '2026-11-28T10:00:00.000', '2026-11-28T10:00:00.00Z', '2026-11-28T10:00:00.0000Z', '+02026-11-28T10:00:00.000Z', '', 'not a time', '2026-1a-28T10:00:00Z',
    ];
    for (const s of cases) expect([s, dateTimeFormat.validate(s)]).toEqual([s, ajvFormats(s)]);
  });

  it('decides as ajv-formats does on 20,000 valid times with one character changed', () => {
    // A fixed sequence (no clock, no Math.random): the same strings on every run.
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    const alphabet = '0123456789-:.TZtz+ 9';
    for (let i = 0; i < 20_000; i++) {
      const iso = new Date(Date.UTC(1990, 0, 1) + (next() % 1_500_000) * 1_000_003).toISOString();
      const at = next() % iso.length;
      const s = iso.slice(0, at) + alphabet[next() % alphabet.length] + iso.slice(at + 1);
      expect([s, dateTimeFormat.validate(s)]).toEqual([s, ajvFormats(s)]);
    }
  });
});
