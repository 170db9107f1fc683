import type { EventType, PulseEvent } from '@pulse/contracts';
import type { ProjectionName } from './metrics.js';

/** Dimension values of one contribution, always built with the same key order for a metric. */
export type Dims = Readonly<Record<string, string>>;

export interface Contribution {
  metric: string;
  value: number;
  dims: Dims;
}

/** Receives the base-metric contributions of one event. */
export type Emit = (metric: string, value: number, dims?: Dims) => void;

export interface StockMovement {
  sku: string;
  warehouse: string;
  atMs: number;
  delta: number;
}

export interface StockLevel {
  sku: string;
  warehouse: string;
  reportedAtMs: number;
  available: number;
  reorderPoint: number | null;
}

/**
 * Session activity is kept at this resolution: `lastMs` is the start of the 15-second step of the latest
 * touch. Nearly every clickstream event touches its session, so at exact resolution the sessions table
 * took an update per event; at 15 s a session is rewritten at most every 15 s, and "active in the last
 * 5 minutes" is off by at most 15 s at the edge of the window. It is a step of event time, so the
 * stored value does not depend on how events were batched (replays and rebuilds give the same rows).
 */
export const SESSION_ACTIVITY_RESOLUTION_MS = 15_000;

export interface SessionTouch {
  sessionId: string;
  firstMs: number;
  /** Latest touch, rounded down to SESSION_ACTIVITY_RESOLUTION_MS. */
  lastMs: number;
  channel: string | null;
  country: string | null;
}

/** Facts beyond metric sums that some projections keep: current stock and session activity. */
export interface Extras {
  stockMovement(m: StockMovement): void;
  stockLevel(l: StockLevel): void;
  sessionTouch(sessionId: string, atMs: number, channel?: string, country?: string): void;
}

/**
 * A projection is a pure function of one event (and its event time in ms): it emits the base-metric
 * contributions and extra facts the event implies. It never throws on a valid event, never reads a
 * clock, and never depends on what came before: order and batching are handled by projectBatch.
 */
export interface Projection {
  name: ProjectionName;
  /**
   * The event types `contribute` does anything with. A rebuild of this projection skips messages of
   * other types without parsing them; a test checks that those types indeed contribute nothing.
   */
  consumes: readonly EventType[];
  contribute(event: PulseEvent, timeMs: number, emit: Emit, extras: Extras): void;
}
