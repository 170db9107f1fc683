import type pg from 'pg';
import { PROJECTIONS, type ProjectionName } from '@pulse/domain';

export const LIVE = 'live';

export function schemaOf(projection: string, version: number): string {
  return `rm_${projection}_v${version}`;
}

/**
 * Makes sure every projection has a served version fed by the live pipeline on every partition.
 * Idempotent: run by each projector at start-up; a new projection or a new partition gets its rows.
 */
export async function ensureLiveVersions(pool: pg.Pool, partitions: number, allowedLatenessMs: number): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // One projector at a time bootstraps, so two starting together do not both create version 1.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('pulse:bootstrap'))`);
    for (const projection of PROJECTIONS) {
      const { rows } = await client.query<{ version: number }>(`SELECT version FROM pulse.projection_versions WHERE projection = $1 ORDER BY version DESC LIMIT 1`, [projection]);
      if (!rows.length) {
        await client.query('SELECT pulse.create_read_model($1, 1)', [projection]);
        await client.query(`INSERT INTO pulse.projection_versions (projection, version, status, allowed_lateness_ms, served_since) VALUES ($1, 1, 'live', $2, now())`, [projection, allowedLatenessMs]);
      }
    }
    // Feed the served version of every projection from every partition (new partitions start at 0).
    await client.query(
      `INSERT INTO pulse.feeds (pipeline, projection, version, partition, after_seq)
       SELECT $1, v.projection, v.version, p, 0
       FROM pulse.projection_versions v CROSS JOIN generate_series(0, $2 - 1) AS p
       WHERE v.status = 'live'
       ON CONFLICT DO NOTHING`,
      [LIVE, partitions],
    );
    await client.query(
      `INSERT INTO pulse.checkpoints (pipeline, partition) SELECT $1, p FROM generate_series(0, $2 - 1) AS p ON CONFLICT DO NOTHING`,
      [LIVE, partitions],
    );
    await client.query('COMMIT');
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}

export function isProjection(value: string): value is ProjectionName {
  return (PROJECTIONS as readonly string[]).includes(value);
}
