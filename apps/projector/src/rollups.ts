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
  /** An urgent refresh deferred by the one-a-second limit, done at the next chance. */
  private owed = false;

  constructor(private readonly intervalMs: number) {}

  /**
   * Notes the versions a commit changed. A change to a minute of an hour that has ended makes the
   * refresh urgent: that hour may be materialised already (late events, or a projector catching up).
   */
  note(applied: readonly VersionChanges[], nowMs: number): boolean {
    const currentHour = Math.floor(nowMs / 3_600_000) * 3_600_000;
    let urgent = false;
    for (const a of applied) {
      this.dirty.add(schemaOf(a.projection, a.version));
      if (!urgent && a.changes.facts.some((f) => f.grain === '1m' && f.bucketMs < currentHour)) urgent = true;
    }
    return urgent;
  }

  async refresh(client: pg.ClientBase, urgent: boolean, nowMs: number): Promise<void> {
    // Urgent refreshes are still coalesced to one a second: catching up must not refresh per batch.
    urgent ||= this.owed;
    if (!this.dirty.size) return;
    if (nowMs - this.lastRun < (urgent ? 1000 : this.intervalMs)) {
      this.owed = urgent;
      return;
    }
    this.owed = false;
    const schemas = [...this.dirty];
    this.dirty = new Set();
    this.lastRun = nowMs;
    for (const schema of schemas) {
      await client.query(`CALL refresh_continuous_aggregate($1, NULL, date_trunc('hour', now()))`, [`${schema}.facts_1h`]);
      await client.query(`CALL refresh_continuous_aggregate($1, NULL, date_trunc('day', now()))`, [`${schema}.facts_1d`]);
    }
  }
}
