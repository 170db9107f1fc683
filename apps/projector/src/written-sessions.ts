import type { SessionTouch } from '@pulse/domain';

/**
 * What this process knows a read model's session rows already hold, per schema and partition, to leave
 * out of a batch the session upserts that would change nothing (about half of them: a session's
 * activity moves in 15 s steps, and it touches its row more often). Safe whoever else writes: a row
 * only moves one way (first_seen down, last_seen up, channel and country set once), so what a commit
 * here wrote is a lower bound of the row forever after. Only committed batches are remembered.
 */
export class WrittenSessions {
  private readonly rows = new Map<string, Map<string, SessionTouch>>();

  /** Sessions remembered per schema and partition; the oldest are forgotten first (sessions end). */
  constructor(private readonly limit = 100_000) {}

  /** The touches of a batch that may change what the rows hold. */
  needed(schema: string, partition: number, touches: readonly SessionTouch[]): SessionTouch[] {
    const known = this.rows.get(`${schema}|${partition}`);
    if (!known) return [...touches];
    return touches.filter((t) => {
      const k = known.get(t.sessionId);
      return !k || t.lastMs > k.lastMs || t.firstMs < k.firstMs || (k.channel === null && t.channel !== null) || (k.country === null && t.country !== null);
    });
  }

  /** After the batch's commit: every touch of it is now in the rows. */
  committed(schema: string, partition: number, touches: readonly SessionTouch[]): void {
    const key = `${schema}|${partition}`;
    let known = this.rows.get(key);
    if (!known) this.rows.set(key, (known = new Map()));
    for (const t of touches) {
      const k = known.get(t.sessionId);
      if (!k) known.set(t.sessionId, { ...t });
      else {
        if (t.lastMs > k.lastMs) k.lastMs = t.lastMs;
        if (t.firstMs < k.firstMs) k.firstMs = t.firstMs;
        k.channel ??= t.channel;
        k.country ??= t.country;
      }
    }
    if (known.size > this.limit) {
      let excess = known.size - this.limit;
      for (const id of known.keys()) {
        if (excess-- <= 0) break;
        known.delete(id);
      }
    }
  }

  /** A schema dropped (a version retired for good): its rows are gone. */
  forget(schema: string): void {
    for (const key of [...this.rows.keys()]) if (key.startsWith(`${schema}|`)) this.rows.delete(key);
  }
}

/** The process's own: every pipeline of this process writes through it. */
export const writtenSessions = new WrittenSessions();
