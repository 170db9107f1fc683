import type { NatsConnection } from '@nats-io/transport-node';
import type { BucketRange, PulseNames, ReadModelChanged } from '@pulse/contracts';
import { GRAIN_MS, type ProjectionChanges } from '@pulse/domain';

interface Pending {
  projection: string;
  version: number;
  revision: number;
  changes: Map<string, { metric: string; grain: '1s' | '1m'; from: number; to: number }>;
  corrected: Map<string, { metric: string; grain: '1s' | '1m'; from: number; to: number }>;
}

function widen(map: Pending['changes'], metric: string, grain: '1s' | '1m', bucketMs: number): void {
  const key = `${metric}|${grain}`;
  const end = bucketMs + GRAIN_MS[grain];
  const range = map.get(key);
  if (!range) map.set(key, { metric, grain, from: bucketMs, to: end });
  else {
    if (bucketMs < range.from) range.from = bucketMs;
    if (end > range.to) range.to = end;
  }
}

function ranges(map: Pending['changes']): BucketRange[] {
  return [...map.values()].map((r) => ({ metric: r.metric, grain: r.grain, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }));
}

/**
 * Coalesces what committed batches changed and publishes at most one notification per projection
 * version per interval, so a burst of commits becomes a trickle of messages, however fast events come.
 * A commit after a quiet interval is announced at once; the interval only holds back the ones after it.
 */
export class ChangeNotifier {
  private readonly pending = new Map<string, Pending>();
  private timer?: NodeJS.Timeout;
  private lastFlushMs = -Infinity;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: PulseNames,
    private readonly intervalMs: number,
  ) {}

  /** Called after a commit (never before: a notification promises the change is readable). */
  committed(projection: string, version: number, revision: number, changes: ProjectionChanges): void {
    if (!changes.touched.length) return;
    const key = `${projection}@${version}`;
    let p = this.pending.get(key);
    if (!p) {
      p = { projection, version, revision, changes: new Map(), corrected: new Map() };
      this.pending.set(key, p);
    }
    if (revision > p.revision) p.revision = revision;
    for (const t of changes.touched) widen(p.changes, t.metric, t.grain, t.bucketMs);
    for (const c of changes.corrections) widen(p.corrected, c.metric, c.grain, c.bucketMs);
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.lastFlushMs + this.intervalMs - Date.now()));
  }

  flush(): void {
    this.timer = undefined;
    this.lastFlushMs = Date.now();
    const emittedAt = new Date().toISOString();
    for (const p of this.pending.values()) {
      const message: ReadModelChanged = { projection: p.projection, version: p.version, revision: p.revision, changes: ranges(p.changes), corrected: ranges(p.corrected), emittedAt };
      if (!this.nc.isClosed()) this.nc.publish(this.names.changesSubject(p.projection), JSON.stringify(message));
    }
    this.pending.clear();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.flush();
  }
}
