import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { PROJECTIONS, type ProjectionName } from '@pulse/domain';
import pg from 'pg';
import { API_CONFIG, type ApiConfig } from '../config.js';

export interface ServedVersion {
  projection: ProjectionName;
  version: number;
  schema: string;
  allowedLatenessMs: number;
}

/** Read-side access to PostgreSQL: a pool whose every query has a statement timeout, and which versions are served. */
@Injectable()
export class ReadModels implements OnApplicationShutdown {
  readonly pool: pg.Pool;
  private readonly log = new Logger('read-models');
  private versions?: { at: number; byProjection: Map<ProjectionName, ServedVersion> };
  private watermark?: { at: number; maxEventMs: number | null };
  private revision = 0;

  constructor(@Inject(API_CONFIG) config: ApiConfig) {
    this.pool = new pg.Pool({
      connectionString: config.databaseUrl,
      max: config.databasePoolSize,
      application_name: 'pulse-api',
      options: `-c statement_timeout=${config.statementTimeoutMs}`,
    });
    this.pool.on('error', (e) => this.log.warn(`idle database connection lost: ${e.message}`));
  }

  /**
   * The version each projection serves. Re-read at most once a second, and at once when a change
   * notification names a version this cache does not know: a swap is seen within a second, and one
   * query always reads one version.
   */
  async served(): Promise<Map<ProjectionName, ServedVersion>> {
    if (this.versions && Date.now() - this.versions.at < 1000) return this.versions.byProjection;
    const { rows } = await this.pool.query<{ projection: ProjectionName; version: number; allowed_lateness_ms: string }>(
      `SELECT projection, version, allowed_lateness_ms FROM pulse.projection_versions WHERE status = 'live'`,
    );
    const byProjection = new Map(rows.map((r) => [r.projection, { projection: r.projection, version: r.version, schema: `rm_${r.projection}_v${r.version}`, allowedLatenessMs: Number(r.allowed_lateness_ms) }]));
    for (const p of PROJECTIONS) if (!byProjection.has(p)) throw new Error(`projection ${p} has no served version yet: is the projector running?`);
    this.versions = { at: Date.now(), byProjection };
    return byProjection;
  }

  async servedVersion(projection: ProjectionName): Promise<ServedVersion> {
    return (await this.served()).get(projection)!;
  }

  /** Called with each change notification. */
  noticeVersion(projection: string, version: number): void {
    const known = this.versions?.byProjection.get(projection as ProjectionName);
    if (known && known.version !== version) this.versions = undefined;
  }

  noticeRevision(revision: number): void {
    if (revision > this.revision) this.revision = revision;
  }

  /** Highest read-model revision this instance has seen (from notifications, or the database at start). */
  async currentRevision(): Promise<number> {
    if (!this.revision) {
      const { rows } = await this.pool.query<{ last_value: string; is_called: boolean }>(`SELECT last_value, is_called FROM pulse.revision`);
      this.revision = rows[0].is_called ? Number(rows[0].last_value) : 0;
    }
    return this.revision;
  }

  /**
   * How far every live partition has got, as the arrival time of the last message it applied; minus a
   * version's allowed lateness it is the watermark: buckets ending at or before it are final.
   */
  async partitionsReachedMs(): Promise<number | null> {
    if (this.watermark && Date.now() - this.watermark.at < 200) return this.watermark.maxEventMs;
    const { rows } = await this.pool.query<{ m: string | null }>(`SELECT min(stored_ms) AS m FROM pulse.checkpoints WHERE pipeline = 'live' AND stored_ms IS NOT NULL`);
    this.watermark = { at: Date.now(), maxEventMs: rows[0].m === null ? null : Number(rows[0].m) };
    return this.watermark.maxEventMs;
  }

  async watermarkMs(version: ServedVersion): Promise<number | null> {
    const reached = await this.partitionsReachedMs();
    return reached === null ? null : reached - version.allowedLatenessMs;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.pool.end();
  }
}
