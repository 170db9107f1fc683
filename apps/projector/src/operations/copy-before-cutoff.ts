import type pg from 'pg';

/**
 * A partial rebuild keeps what the served version knows of time before the cutoff: minute and second
 * buckets that start before it, hourly and daily buckets that end by it, and their corrections. The
 * hour and day that straddle the cutoff get their earlier part summed from the copied minutes; the
 * re-projection adds the rest. Stock and session facts before the cutoff come along too.
 */
export async function copyBeforeCutoff(client: pg.ClientBase, from: string, to: string, cutoff: Date, timescale: boolean, projection: string): Promise<void> {
  const cols = 'bucket, metric, dim_key, partition, value, events, late_events, late_value';
  for (const grain of ['1s', '1m']) {
    await client.query(`INSERT INTO "${to}".facts_${grain} (${cols}) SELECT ${cols} FROM "${from}".facts_${grain} WHERE bucket < $1`, [cutoff]);
  }
  if (!timescale) {
    for (const [grain, unit, size] of [['1h', 'hour', '1 hour'], ['1d', 'day', '1 day']] as const) {
      await client.query(`INSERT INTO "${to}".facts_${grain} (${cols}) SELECT ${cols} FROM "${from}".facts_${grain} WHERE bucket + interval '${size}' <= $1`, [cutoff]);
      await client.query(
        `INSERT INTO "${to}".facts_${grain} (${cols})
         SELECT date_trunc('${unit}', bucket), metric, dim_key, partition, sum(value), sum(events), sum(late_events), sum(late_value)
         FROM "${to}".facts_1m WHERE bucket >= date_trunc('${unit}', $1::timestamptz) AND bucket < $1
         GROUP BY 1, metric, dim_key, partition`,
        [cutoff],
      );
    }
  }
  await client.query(
    `INSERT INTO "${to}".corrections (metric, grain, bucket, partition, watermark, late_events, delta, first_recorded_at, last_recorded_at)
     SELECT metric, grain, bucket, partition, watermark, late_events, delta, first_recorded_at, last_recorded_at FROM "${from}".corrections WHERE bucket < $1`,
    [cutoff],
  );
  if (projection === 'inventory') {
    await client.query(`INSERT INTO "${to}".stock_movements (sku, warehouse, at, partition, delta) SELECT sku, warehouse, at, partition, delta FROM "${from}".stock_movements WHERE at < $1`, [cutoff]);
    await client.query(
      `INSERT INTO "${to}".stock_levels (sku, warehouse, partition, reported_at, available, reorder_point)
       SELECT sku, warehouse, partition, reported_at, available, reorder_point FROM "${from}".stock_levels WHERE reported_at < $1`,
      [cutoff],
    );
  }
  if (projection === 'traffic') {
    // Session activity merges by least/greatest, so re-projected touches after the cutoff add nothing twice.
    await client.query(
      `INSERT INTO "${to}".sessions (session_id, partition, first_seen, last_seen, channel, country)
       SELECT session_id, partition, first_seen, last_seen, channel, country FROM "${from}".sessions WHERE first_seen < $1`,
      [cutoff],
    );
  }
}
