/**
 * Lateness rules. Each partition of the event stream keeps the highest event time it has seen; its
 * watermark trails that by the allowed lateness. A bucket is provisional until the watermark passes its
 * end, then final. An event for a bucket that is already final is late: it still counts, exactly, and the
 * bucket records the correction.
 *
 * The watermark moves event by event in stream order, so whether an event is late depends only on the
 * partition's sequence of events, never on how it was cut into batches: a replay decides the same.
 */
export interface PartitionClock {
  /** Highest event time seen in this partition, ms since epoch; null before the first event. */
  maxEventMs: number | null;
}

export function watermarkOf(clock: PartitionClock, allowedLatenessMs: number): number | null {
  return clock.maxEventMs === null ? null : clock.maxEventMs - allowedLatenessMs;
}

/** A bucket [startMs, endMs) is final once the watermark has reached its end. */
export function isFinal(bucketEndMs: number, watermarkMs: number | null): boolean {
  return watermarkMs !== null && bucketEndMs <= watermarkMs;
}

/**
 * The watermark of a whole projection is the lowest of its partitions' watermarks: a bucket is final
 * only when every partition has moved past it.
 */
export function combinedWatermark(partitionWatermarks: ReadonlyArray<number | null>): number | null {
  const known = partitionWatermarks.filter((w): w is number => w !== null);
  // A partition that has seen nothing yet holds nothing back: with identity-hashed partitions, an empty
  // partition just means little traffic so far.
  return known.length ? Math.min(...known) : null;
}
