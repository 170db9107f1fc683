/**
 * Lateness rules. An event's lateness is judged against when it arrived: JetStream's stored time of the
 * message that carries it. The watermark at that moment is the arrival time minus the allowed lateness
 * ("everything that happened before then has arrived by now"). A bucket is provisional until the
 * watermark passes its end, then final; an event for a bucket that was already final is late: it still
 * counts, exactly, and the bucket records the correction.
 *
 * Arrival times are stored with the events, so a replay decides exactly as the live run did, however the
 * stream is cut into batches; and neither a producer's clock running ahead nor the order in which a
 * producer's batch was split into messages can make other events late.
 */
export function watermarkAt(arrivedMs: number, allowedLatenessMs: number): number {
  return arrivedMs - allowedLatenessMs;
}

/** A bucket [startMs, endMs) is final once the watermark has reached its end. */
export function isFinal(bucketEndMs: number, watermarkMs: number | null): boolean {
  return watermarkMs !== null && bucketEndMs <= watermarkMs;
}

/**
 * The watermark of a whole projection is the lowest of its partitions' (a bucket is final only when
 * every partition has moved past it). A partition that has seen nothing yet holds nothing back: with
 * identity-hashed partitions, an empty partition just means little traffic so far.
 */
export function combinedWatermark(partitionWatermarks: ReadonlyArray<number | null>): number | null {
  const known = partitionWatermarks.filter((w): w is number => w !== null);
  return known.length ? Math.min(...known) : null;
}
