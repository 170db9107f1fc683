/**
 * The longest pacing holds a queued message back. Pacing (ADR 0007) lets a busy partition's batches
 * grow, so PostgreSQL writes each roll-up and session row less often; it pays in latency. Near the
 * machine's limit a commit takes hundreds of milliseconds, so the messages queued behind it have
 * already waited that long and the batch is large anyway: waiting more would only add latency, and
 * near the limit that latency compounds (every later batch starts later too).
 */
export const MAX_PACE_HOLD_MS = 100;

export interface PaceInput {
  /** When the last batch started and how long it took (ms). */
  lastStartMs: number;
  lastMs: number;
  /** The largest share of its time a partition spends committing (`PULSE_BATCH_DUTY_SHARE`). */
  dutyShare: number;
  /** When the oldest message still queued arrived. */
  oldestQueuedMs: number;
  nowMs: number;
}

/** How long to wait before the next batch: until the duty share holds, but never holding a queued message more than MAX_PACE_HOLD_MS. */
export function paceWaitMs({ lastStartMs, lastMs, dutyShare, oldestQueuedMs, nowMs }: PaceInput): number {
  const duty = lastStartMs + lastMs / dutyShare - nowMs;
  const hold = oldestQueuedMs + MAX_PACE_HOLD_MS - nowMs;
  return Math.max(0, Math.min(duty, hold));
}
