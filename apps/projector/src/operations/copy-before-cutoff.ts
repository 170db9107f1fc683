import type pg from 'pg';

/**
 * A partial rebuild keeps what the served version knows of time before the cutoff: minute and second
 * buckets that start before it, hourly and daily buckets summed from those minutes (copied where
 * retention left no minutes), and their corrections. The hour and day that straddle the cutoff get
 * their earlier part; the re-projection adds the rest. Stock and session facts before the cutoff come
 * along too.
 */
export async function copyBeforeCutoff(client: pg.ClientBase, from: string, to: string, cutoff: Date, timescale: boolean, projection: string): Promise<void> {
  const cols = 'bucket, metric, dim_key, partition, value, events, late_events, late_value';
  for (const grain of ['1s', '1m']) {
    await client.query(`INSERT INTO "${to}".facts_${grain} (${cols}) SELECT ${cols} FROM "${from}".facts_${grain} WHERE bucket < $1`, [cutoff]);
  }
  if (!timescale) {
    // Hours and days are summed from the copied minutes wherever those are complete, not copied: the
    // served version's may lag its minutes by what its live partitions hold back (deferred-rollups.ts),
    // and those deltas would never reach this version. Before the first whole hour (day) of minutes that
    // retention (90 days) left, they are copied.
    const { rows } = await client.query<{ hour_from: Date | null; day_from: Date | null }>(
      `SELECT date_trunc('hour', m0, 'UTC') + CASE WHEN cut THEN interval '1 hour' ELSE interval '0' END AS hour_from,
              date_trunc('day', m0, 'UTC') + CASE WHEN cut THEN interval '1 day' ELSE interval '0' END AS day_from
       FROM (SELECT min(bucket) AS m0, min(bucket) < now() - interval '89 days' AS cut FROM "${to}".facts_1m) AS oldest`,
    );
    const far = new Date(8.64e15);
    for (const [grain, finer, unit, size, summedFrom] of [['1h', '1m', 'hour', '1 hour', rows[0].hour_from ?? far], ['1d', '1h', 'day', '1 day', rows[0].day_from ?? far]] as const) {
      await client.query(`INSERT INTO "${to}".facts_${grain} (${cols}) SELECT ${cols} FROM "${from}".facts_${grain} WHERE bucket + interval '${size}' <= $1 AND bucket < $2`, [cutoff, summedFrom]);
      await client.query(
        `INSERT INTO "${to}".facts_${grain} (${cols})
         SELECT date_trunc('${unit}', bucket, 'UTC'), metric, dim_key, partition, sum(value), sum(events), sum(late_events), sum(late_value)
         FROM "${to}".facts_${finer} WHERE bucket >= $2 AND bucket < $1
         GROUP BY 1, metric, dim_key, partition`,
        [cutoff, summedFrom],
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
