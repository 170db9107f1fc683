import type { LogLevel } from '@nestjs/common';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { startProjector } from '../../apps/projector/src/app.js';
import { loadConfig, type ProjectorConfig } from '../../apps/projector/src/config.js';
import { testPool } from './database.js';
import { eventually, NATS_URL } from './services.js';

/** Runs the real projector in this process against real NATS and PostgreSQL. */
export async function runProjector(names: PulseNames, databaseUrl: string, overrides: Partial<ProjectorConfig> = {}) {
  const config = { ...loadConfig({ NATS_URL, DATABASE_URL: databaseUrl, PULSE_TIMESCALE: 'off', PULSE_NOTIFY_INTERVAL_MS: '20' }), names, ...overrides };
  const { app, projector } = await startProjector(config, (process.env.PULSE_TEST_LOG ?? 'error').split(',') as LogLevel[]);
  return { projector, stop: () => app.close() };
}

/** Resolves once every live partition consumer has nothing pending and nothing unacked: all is committed. */
export async function caughtUp(nc: NatsConnection, names: PulseNames, timeoutMs = 30_000, consumerPrefix = ''): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await eventually(
    async () => {
      for (let p = 0; p < names.partitions; p++) {
        const info = await jsm.consumers.info(names.eventsStream, `${consumerPrefix}live-p${p}`).catch(() => undefined);
        if (!info || info.num_pending > 0 || info.num_ack_pending > 0) return undefined;
      }
      return true;
    },
    timeoutMs,
    'the projector to catch up',
  );
}

/** Read-model queries for assertions, straight from the tables of the served versions. */
export function readModel(databaseUrl: string) {
  const pool = testPool(databaseUrl, 2);
  const schema = async (projection: string) =>
    (await pool.query<{ version: number }>(`SELECT version FROM pulse.projection_versions WHERE projection = $1 AND status = 'live'`, [projection])).rows[0].version;
  return {
    pool,
    async total(projection: string, metric: string, grain = '1m', dims: Record<string, string> = {}): Promise<number> {
      const version = await schema(projection);
      const filters = Object.entries(dims).map(([k], i) => `AND (dim_key::jsonb ->> '${k}') = $${i + 2}`).join(' ');
      const { rows } = await pool.query<{ total: string | null }>(`SELECT sum(value) AS total FROM rm_${projection}_v${version}.facts_${grain} WHERE metric = $1 ${filters}`, [metric, ...Object.values(dims)]);
      return Number(rows[0].total ?? 0);
    },
    async bucket(projection: string, metric: string, grain: string, at: string) {
      const version = await schema(projection);
      const { rows } = await pool.query<{ value: string | null; events: string | null; late_events: string | null }>(
        `SELECT sum(value) AS value, sum(events) AS events, sum(late_events) AS late_events FROM rm_${projection}_v${version}.facts_${grain} WHERE metric = $1 AND bucket = $2`,
        [metric, at],
      );
      const revisions = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM rm_${projection}_v${version}.corrections WHERE metric = $1 AND grain = $2 AND bucket = $3`, [metric, grain, at]);
      return { value: Number(rows[0].value ?? 0), events: Number(rows[0].events ?? 0), lateEvents: Number(rows[0].late_events ?? 0), revisions: Number(revisions.rows[0].n) };
    },
    /** Every fact row of every served read model, for comparing two databases exactly. */
    async dump(): Promise<string[]> {
      const out: string[] = [];
      const versions = (await pool.query<{ projection: string; version: number }>(`SELECT projection, version FROM pulse.projection_versions WHERE status = 'live' ORDER BY projection`)).rows;
      for (const { projection, version } of versions) {
        for (const table of ['facts_1s', 'facts_1m', 'facts_1h', 'facts_1d']) {
          const { rows } = await pool.query(`SELECT '${projection}.${table}' AS t, bucket, metric, dim_key, partition, value, events, late_events, late_value FROM rm_${projection}_v${version}.${table} ORDER BY metric, bucket, dim_key, partition`);
          out.push(...rows.map((r) => JSON.stringify(r)));
        }
        const { rows } = await pool.query(`SELECT metric, grain, bucket, partition, watermark, late_events, delta FROM rm_${projection}_v${version}.corrections ORDER BY 1, 2, 3, 4, 5`);
        out.push(...rows.map((r) => `${projection}.corrections ${JSON.stringify(r)}`));
      }
      const stock = await pool.query(`SELECT * FROM rm_inventory_v1.stock_levels ORDER BY sku, warehouse, partition`).catch(() => ({ rows: [] }));
      out.push(...stock.rows.map((r) => `stock ${JSON.stringify(r)}`));
      return out;
    },
    /** Every fact and correction row of one version of one projection. */
    async dumpVersion(projection: string, version: number, columns = 'value, events, late_events, late_value'): Promise<string[]> {
      const out: string[] = [];
      for (const table of ['facts_1s', 'facts_1m', 'facts_1h', 'facts_1d']) {
        const { rows } = await pool.query(`SELECT '${table}' AS t, bucket, metric, dim_key, partition, ${columns} FROM rm_${projection}_v${version}.${table} ORDER BY metric, bucket, dim_key, partition`);
        out.push(...rows.map((r) => JSON.stringify(r)));
      }
      if (columns.includes('late')) {
        const { rows } = await pool.query(`SELECT metric, grain, bucket, partition, watermark, late_events, delta FROM rm_${projection}_v${version}.corrections ORDER BY 1, 2, 3, 4, 5`);
        out.push(...rows.map((r) => `corrections ${JSON.stringify(r)}`));
      }
      return out;
    },
    close: () => pool.end(),
  };
}
