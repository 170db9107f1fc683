import type { Logger } from '@nestjs/common';
import type pg from 'pg';
import type { ProjectorConfig } from '../config.js';
import { schemaOf } from '../read-models.js';

/**
 * Periodic upkeep, done by one projector at a time (advisory lock): drop retired read-model versions
 * once their rollback window has passed, forget identities older than the de-duplication horizon, and on
 * plain PostgreSQL apply the retention TimescaleDB's policies apply by themselves.
 */
export class Housekeeping {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: ProjectorConfig,
    private readonly timescale: boolean,
    private readonly log: Logger,
  ) {}

  start(everyMs = 60_000): void {
    this.timer = setInterval(() => void this.run().catch((e: Error) => this.log.warn(`housekeeping: ${e.message}`)), everyMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async run(): Promise<void> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext('pulse:housekeeping')) AS ok`);
      if (!rows[0].ok) return;
      const expired = await client.query<{ projection: string; version: number }>(`SELECT projection, version FROM pulse.projection_versions WHERE status = 'retired' AND drop_after <= now()`);
      for (const { projection, version } of expired.rows) {
        await client.query('BEGIN');
        await client.query(`DELETE FROM pulse.feeds WHERE projection = $1 AND version = $2`, [projection, version]);
        await client.query(`DROP SCHEMA IF EXISTS "${schemaOf(projection, version)}" CASCADE`);
        await client.query(`UPDATE pulse.projection_versions SET status = 'dropped' WHERE projection = $1 AND version = $2`, [projection, version]);
        await client.query('COMMIT');
        this.log.log(`dropped retired ${projection} v${version}`);
      }
      await client.query(`DELETE FROM pulse.seen_events WHERE event_day < current_date - $1::int`, [this.config.dedupHorizonDays + 1]);
      await client.query(`DELETE FROM pulse.identity_blocks WHERE second < extract(epoch FROM current_date - $1::int)::bigint`, [this.config.dedupHorizonDays + 1]);
      if (!this.timescale) {
        const served = await client.query<{ projection: string; version: number }>(`SELECT projection, version FROM pulse.projection_versions WHERE status IN ('live', 'retired', 'building')`);
        for (const { projection, version } of served.rows) {
          const s = schemaOf(projection, version);
          await client.query(`DELETE FROM "${s}".facts_1s WHERE bucket < now() - interval '2 days'`);
          await client.query(`DELETE FROM "${s}".facts_1m WHERE bucket < now() - interval '90 days'`);
          if (projection === 'traffic') await client.query(`DELETE FROM "${s}".sessions WHERE last_seen < now() - interval '2 days'`);
        }
      }
      await client.query(`SELECT pg_advisory_unlock(hashtext('pulse:housekeeping'))`);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }
}
