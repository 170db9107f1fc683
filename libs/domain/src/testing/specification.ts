import type { PulseEvent } from '@pulse/contracts';
import { projectBatch, type CorrectionDelta, type FactDelta } from '../project-batch.js';
import type { Projection } from '../projection.js';
import { projections as all } from '../projections/index.js';
import type { Grain } from '../time.js';

/** An event that arrived at `at` (ISO) rather than the moment it happened. */
export interface Arriving {
  event: PulseEvent;
  arrivedAt: string;
}

export function arriving(arrivedAt: string, event: PulseEvent): Arriving {
  return { event, arrivedAt };
}

/**
 * Given events (arriving when they happened, unless wrapped in `arriving`), when they are projected in
 * batches of some size, then the read model holds... The read model here is the sum of the changes,
 * applied as the database applies them.
 */
export function given(...items: Array<PulseEvent | Arriving>) {
  const events = items.map((i) => ('arrivedAt' in i ? { event: i.event, arrivedMs: Date.parse(i.arrivedAt) } : { event: i, arrivedMs: Date.parse(i.time) }));
  return {
    whenProjected(options: { batchSize?: number; allowedLatenessMs?: number; projections?: Projection[]; partition?: number } = {}) {
      const batchSize = options.batchSize ?? events.length;
      const facts = new Map<string, FactDelta>();
      const corrections = new Map<string, CorrectionDelta>();
      const stock = new Map<string, { reportedAtMs: number; available: number; movements: Array<{ atMs: number; delta: number }> }>();
      const sessions = new Map<string, { firstMs: number; lastMs: number; channel: string | null; country: string | null }>();
      for (let i = 0; i < Math.max(events.length, 1); i += batchSize) {
        const batch = events.slice(i, i + batchSize).map(({ event, arrivedMs }) => ({ event, timeMs: Date.parse(event.time), arrivedMs }));
        const result = projectBatch({ partition: options.partition ?? 0, events: batch, allowedLatenessMs: options.allowedLatenessMs ?? 10_000, projections: options.projections ?? Object.values(all) });
        for (const changes of result.changes) {
          for (const f of changes.facts) {
            const key = `${f.grain}|${f.bucketMs}|${f.metric}|${f.dimKey}`;
            const row = facts.get(key) ?? { ...f, value: 0, events: 0, lateEvents: 0, lateValue: 0 };
            row.value += f.value;
            row.events += f.events;
            row.lateEvents += f.lateEvents;
            row.lateValue += f.lateValue;
            facts.set(key, row);
          }
          for (const c of changes.corrections) {
            const key = `${c.grain}|${c.bucketMs}|${c.metric}|${c.partition}|${c.watermarkMs}`;
            const row = corrections.get(key) ?? { ...c, lateEvents: 0, delta: 0 };
            row.lateEvents += c.lateEvents;
            row.delta += c.delta;
            corrections.set(key, row);
          }
          for (const l of changes.stockLevels) {
            const key = `${l.sku}|${l.warehouse}`;
            const s = stock.get(key) ?? { reportedAtMs: -Infinity, available: 0, movements: [] };
            if (l.reportedAtMs >= s.reportedAtMs) Object.assign(s, { reportedAtMs: l.reportedAtMs, available: l.available });
            stock.set(key, s);
          }
          for (const t of changes.sessions) {
            // As the sessions upsert merges them: earliest first touch, latest last touch, first known channel and country.
            const row = sessions.get(t.sessionId);
            if (!row) sessions.set(t.sessionId, { firstMs: t.firstMs, lastMs: t.lastMs, channel: t.channel, country: t.country });
            else Object.assign(row, { firstMs: Math.min(row.firstMs, t.firstMs), lastMs: Math.max(row.lastMs, t.lastMs), channel: row.channel ?? t.channel, country: row.country ?? t.country });
          }
          for (const m of changes.stockMovements) {
            const key = `${m.sku}|${m.warehouse}`;
            const s = stock.get(key) ?? { reportedAtMs: -Infinity, available: 0, movements: [] };
            s.movements.push({ atMs: m.atMs, delta: m.delta });
            stock.set(key, s);
          }
        }
      }
      const rows = (metric: string, grain: Grain) => [...facts.values()].filter((f) => f.metric === metric && f.grain === grain);
      return {
        /** Sum of a metric over all buckets of a grain, optionally only rows whose dimensions include `dims`. */
        total(metric: string, grain: Grain = '1m', dims: Record<string, string> = {}) {
          return rows(metric, grain)
            .filter((f) => Object.entries(dims).every(([k, v]) => (JSON.parse(f.dimKey) as Record<string, string>)[k] === v))
            .reduce((sum, f) => sum + f.value, 0);
        },
        /** A session's activity row, times as ISO strings. */
        session(id: string) {
          const row = sessions.get(id);
          return row && { ...row, first: new Date(row.firstMs).toISOString(), last: new Date(row.lastMs).toISOString() };
        },
        bucket(metric: string, grain: Grain, at: string) {
          const bucketRows = rows(metric, grain).filter((f) => f.bucketMs === Date.parse(at));
          return {
            value: bucketRows.reduce((s, f) => s + f.value, 0),
            events: bucketRows.reduce((s, f) => s + f.events, 0),
            lateEvents: bucketRows.reduce((s, f) => s + f.lateEvents, 0),
            revisions: [...corrections.values()].filter((c) => c.metric === metric && c.grain === grain && c.bucketMs === Date.parse(at)).length,
          };
        },
        corrections(metric: string, grain: '1s' | '1m') {
          return [...corrections.values()].filter((c) => c.metric === metric && c.grain === grain);
        },
        stock(sku: string, warehouse: string) {
          const s = stock.get(`${sku}|${warehouse}`);
          if (!s) return undefined;
          return s.available + s.movements.filter((m) => m.atMs > s.reportedAtMs).reduce((sum, m) => sum + m.delta, 0);
        },
        facts: [...facts.values()],
      };
    },
  };
}
