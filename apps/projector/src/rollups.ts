import type pg from 'pg';
import type { VersionChanges } from './commit-batch.js';
import { schemaOf } from './read-models.js';

/**
 * With TimescaleDB the hourly and daily roll-ups are continuous aggregates. Real-time aggregation
 * covers the hours above the aggregate's watermark, but an hour below it changes only when it is
 * refreshed: a late event there needs a refresh to show. The refresh window always starts at the
 * beginning of time, because refreshing a later window alone would move the watermark past hours never
 * materialised and hide them; TimescaleDB only recomputes invalidated ranges, so the open start is cheap.
 * Runs outside any transaction (TimescaleDB requires it).
 */
export class RollupRefresher {
  private lastRun = 0;
  private dirty = new Set<string>();

  constructor(private readonly intervalMs: number) {}

  /** Notes the versions a commit changed; late minutes make the refresh urgent. */
  note(applied: readonly VersionChanges[]): boolean {
    let late = false;
    for (const a of applied) {
      this.dirty.add(schemaOf(a.projection, a.version));
      if (!late && a.changes.facts.some((f) => f.grain === '1m' && f.lateEvents > 0)) late = true;
    }
    return late;
  }

  async refresh(client: pg.ClientBase, urgent: boolean, nowMs: number): Promise<void> {
    if (!this.dirty.size || (!urgent && nowMs - this.lastRun < this.intervalMs)) return;
    const schemas = [...this.dirty];
    this.dirty = new Set();
    this.lastRun = nowMs;
    for (const schema of schemas) {
      await client.query(`CALL refresh_continuous_aggregate($1, NULL, date_trunc('hour', now()))`, [`${schema}.facts_1h`]);
      await client.query(`CALL refresh_continuous_aggregate($1, NULL, date_trunc('day', now()))`, [`${schema}.facts_1d`]);
    }
  }
}
