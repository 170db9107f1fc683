import { MAX_PACE_HOLD_MS, paceWaitMs } from './pacing.js';

describe('pacing a busy partition', () => {
  // The last batch started at 1,000 and took `lastMs`; the oldest queued message arrived when it was taken.
  const after = (lastMs: number, dutyShare = 0.5) => paceWaitMs({ lastStartMs: 1_000, lastMs, dutyShare, oldestQueuedMs: 1_000 + 1, nowMs: 1_000 + lastMs });

  it('waits as long as a short commit took, so the next batch is about twice as large', () => {
    expect(after(30)).toBe(30);
    expect(after(20, 0.25)).toBe(60);
  });

  it('holds no message back more than the hold limit, counted from when it was queued', () => {
    expect(after(70)).toBe(MAX_PACE_HOLD_MS - 70 + 1);
  });

  it('does not wait after a commit longer than the hold limit: the queued messages have waited enough', () => {
    expect(after(250)).toBe(0);
  });

  it('does not wait when the duty share already holds', () => {
    expect(paceWaitMs({ lastStartMs: 1_000, lastMs: 30, dutyShare: 0.5, oldestQueuedMs: 1_090, nowMs: 1_090 })).toBe(0);
  });
});
