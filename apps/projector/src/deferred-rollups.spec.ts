import type { FactDelta } from '@pulse/domain';
import { DeferredRollups, hourTouches, hoursOf, mergeRollups } from './deferred-rollups.js';

const HOUR = 3_600_000;
const delta = (grain: '1m' | '1h' | '1d', bucketMs: number, value: number, dimKey = '{}'): FactDelta => ({ grain, bucketMs, metric: 'orders', dimKey, value, events: 1, lateEvents: 0, lateValue: 0 });

describe('roll-ups held back while busy', () => {
  it('sums what batches hold per row, and merges it with the batch that writes, leaving every batch delta as it was', () => {
    const held = new DeferredRollups(1000);
    const first = [delta('1h', 0, 5), delta('1d', 0, 5)];
    held.written(0);
    held.hold('rm_sales_v1', first);
    held.hold('rm_sales_v1', [delta('1h', 0, 2), delta('1h', HOUR, 7)]);
    const own = [delta('1h', HOUR, 1), delta('1h', HOUR, 4, '{"currency":"EUR"}')];

    const merged = mergeRollups(own, held.heldFor('rm_sales_v1'));

    expect(merged.map((f) => [f.grain, f.bucketMs, f.dimKey, f.value, f.events]).sort()).toEqual([
      ['1d', 0, '{}', 5, 1],
      ['1h', 0, '{}', 7, 2],
      ['1h', HOUR, '{"currency":"EUR"}', 4, 1],
      ['1h', HOUR, '{}', 8, 2],
    ]);
    expect(first[0].value).toBe(5);
    expect(own[0].value).toBe(1);
  });

  it('holds nothing back while recovering, or once the delay has passed since roll-ups were last written', () => {
    const held = new DeferredRollups(1000);
    expect(held.mayDefer(0)).toBe(false);
    held.written(10_000);
    expect(held.mayDefer(10_999)).toBe(true);
    expect(held.mayDefer(11_000)).toBe(false);
    held.hold('rm_sales_v1', [delta('1h', 0, 1)]);
    held.forget();
    expect([held.recovering, held.schemas(), held.mayDefer(10_500)]).toEqual([true, [], false]);
  });

  it('names the hours it holds, and marks each hour as touched by its first minute, so the console reads it again', () => {
    const facts = [delta('1m', 60_000, 1), delta('1h', 0, 1), delta('1h', 0, 1, '{"currency":"EUR"}'), delta('1h', 5 * HOUR, 1), delta('1d', 0, 2)];
    expect(hoursOf(facts)).toEqual([0, 5]);
    expect(hourTouches(facts)).toEqual([
      { grain: '1m', metric: 'orders', bucketMs: 0 },
      { grain: '1m', metric: 'orders', bucketMs: 5 * HOUR },
    ]);
  });
});
