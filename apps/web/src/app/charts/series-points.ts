import type { Dims, WirePoint, WireSeries } from '../api/contract';
import { toMs } from '../display/display';

/** One bucket as the charts use it: time as epoch ms of the bucket's start. */
export type BucketPoint = Omit<WirePoint, 't'> & { t: number };

export interface BucketSeries {
  /** Identity of the series: its dimensions in a canonical order ('' for totals). */
  key: string;
  dims: Dims;
  points: BucketPoint[];
}

export function dimsKey(dims: Dims | undefined): string {
  if (!dims) return '';
  return Object.keys(dims)
    .sort()
    .map((k) => `${k}=${dims[k]}`)
    .join(',');
}

export function dimsLabel(dims: Dims | undefined): string {
  const values = dims ? Object.values(dims) : [];
  return values.length ? values.join(' · ') : 'total';
}

function toPoint(point: WirePoint): BucketPoint | null {
  const t = toMs(point.t);
  if (t === null) return null;
  return {
    t,
    value: point.value ?? null,
    final: point.final === true,
    revisions: point.revisions ?? 0,
    lateEvents: point.lateEvents ?? 0,
    events: point.events ?? 0,
    lateShare: point.lateShare ?? 0,
  };
}

function sortedPoints(points: WirePoint[]): BucketPoint[] {
  return points
    .map(toPoint)
    .filter((p): p is BucketPoint => p !== null)
    .sort((a, b) => a.t - b.t);
}

/** A snapshot replaces everything: it is the server's whole view at its revision. */
export function fromSnapshot(series: WireSeries[]): BucketSeries[] {
  return series.map((s) => ({ key: dimsKey(s.dims), dims: s.dims ?? {}, points: sortedPoints(s.points ?? []) }));
}

/**
 * Applies an `update` (only the buckets that changed) to what is shown: a bucket with the same start
 * replaces the old one (a provisional value growing, a final one revised), new buckets are added, and
 * buckets that scrolled out of the window are dropped.
 */
export function mergeUpdate(current: BucketSeries[], changed: WireSeries[], windowMs: number): BucketSeries[] {
  const byKey = new Map(current.map((s) => [s.key, s]));
  for (const incoming of changed) {
    const key = dimsKey(incoming.dims);
    const existing = byKey.get(key);
    const points = new Map((existing?.points ?? []).map((p) => [p.t, p]));
    for (const point of sortedPoints(incoming.points ?? [])) points.set(point.t, point);
    byKey.set(key, { key, dims: incoming.dims ?? existing?.dims ?? {}, points: [...points.values()].sort((a, b) => a.t - b.t) });
  }
  return trimToWindow([...byKey.values()], windowMs);
}

/** Keeps the buckets within `windowMs` of the newest one. */
export function trimToWindow(series: BucketSeries[], windowMs: number): BucketSeries[] {
  const newest = latestBucket(series);
  if (newest === null) return series;
  const from = newest - windowMs;
  return series.map((s) => (s.points.length && s.points[0].t <= from ? { ...s, points: s.points.filter((p) => p.t > from) } : s));
}

export function latestBucket(series: BucketSeries[]): number | null {
  let newest: number | null = null;
  for (const s of series) {
    const last = s.points[s.points.length - 1];
    if (last && (newest === null || last.t > newest)) newest = last.t;
  }
  return newest;
}
