/** Bucket sizes of every read model. Buckets are by event time: the `time` of the event, not its arrival. */
export type Grain = '1s' | '1m' | '1h' | '1d';
export const GRAINS: readonly Grain[] = ['1s', '1m', '1h', '1d'];

export const GRAIN_MS: Record<Grain, number> = {
  '1s': 1_000,
  '1m': 60_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};

/** Start of the bucket (UTC) holding `ms`. Days start at 00:00 UTC, as TimescaleDB's time_bucket does. */
export function bucketStart(ms: number, grain: Grain): number {
  const size = GRAIN_MS[grain];
  return Math.floor(ms / size) * size;
}

export function isGrain(value: unknown): value is Grain {
  return typeof value === 'string' && (GRAINS as readonly string[]).includes(value);
}
