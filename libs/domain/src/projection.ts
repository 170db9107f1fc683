import type { PulseEvent } from '@pulse/contracts';
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

export interface SessionTouch {
  sessionId: string;
  firstMs: number;
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
  contribute(event: PulseEvent, timeMs: number, emit: Emit, extras: Extras): void;
}
