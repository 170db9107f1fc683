/**
 * The shapes of docs/api.md (Pulse API v1), as the console reads them. Times arrive as ISO-8601 UTC
 * strings; the console turns them into epoch milliseconds at the edge (see charts/series-points.ts).
 * Where the contract leaves a shape open (admin lists, rebuild records, dead letters) the fields are
 * optional and the screens show what is there.
 */
export type Role = 'producer' | 'operator' | 'admin';
export type Unit = 'count' | 'minor_units' | 'ratio';
export type Grain = '1s' | '1m' | '1h' | '1d';
export type LiveGrain = Exclude<Grain, '1d'>;
export type Dims = Record<string, string>;
/** An ISO-8601 time as sent by the API; tolerated as epoch ms too. */
export type WireTime = string | number;

export interface SessionInfo {
  name: string;
  role: Role;
}

export interface MetricDefinition {
  name: string;
  title: string;
  description: string;
  unit: Unit;
  kind: 'sum' | 'ratio';
  projection: string;
  dimensions: string[];
  grains: Grain[];
  higherIsBetter?: boolean;
  numerator?: string;
  denominator?: string;
}

export interface WirePoint {
  t: WireTime;
  value: number | null;
  final: boolean;
  revisions: number;
  lateEvents: number;
  events: number;
  lateShare: number;
}

export interface WireSeries {
  dims: Dims;
  points: WirePoint[];
}

export interface SeriesResponse {
  metric: string;
  grain: Grain;
  from: WireTime;
  to: WireTime;
  watermark: WireTime | null;
  revision: number;
  version: number;
  series: WireSeries[];
}

export interface BreakdownResponse {
  metric: string;
  by: string;
  rows: { dims: Dims; value: number | null }[];
}

export interface NowTile {
  key: string;
  title: string;
  unit: Unit;
  value: number | null;
  /** The same figure yesterday and a week ago, at the same time of day. */
  comparison: { yesterday: number | null; lastWeek: number | null };
  sparkline: { t: WireTime; value: number | null }[];
  metric: string;
  grain: Grain;
}

export interface NowResponse {
  at: WireTime;
  watermark: WireTime | null;
  revision: number;
  tiles: NowTile[];
}

export interface FunnelResponse {
  steps: { metric: string; title: string; value: number; conversionFromPrevious: number | null }[];
}

export interface StockRow {
  sku: string;
  warehouse: string;
  available: number;
  reportedAt: WireTime;
  reorderPoint: number;
  unitsPerHour: number;
  hoursToStockout: number | null;
  status: 'out' | 'low' | 'ok';
  lostUnitsPerHour: number;
}

export interface CorrectionsResponse {
  metric: string;
  grain: Grain;
  bucket: WireTime;
  value: number | null;
  final: boolean;
  history: { recordedAt: WireTime; watermark: WireTime | null; lateEvents: number; delta: number; partition: number }[];
}

export interface ReconciliationResponse {
  date: string;
  metrics: { metric: string; title: string; unit: Unit; total: number | null; lateValue: number | null; lateShare: number | null; lateEvents: number; revisions: number }[];
  largestRevisions: { metric: string; grain: Grain; bucket: WireTime; delta: number; lateEvents: number; recordedAt: WireTime }[];
}

// Live socket (/live)
export interface SubscribeRequest {
  id: string;
  metric: string;
  grain: LiveGrain;
  windowSeconds: number;
  groupBy?: string;
  filters?: Dims;
  lastRevision?: number;
}
export type Ack<T> = ({ ok: true } & T) | { ok: false; code: string; detail?: string };
export type SubscribeAck = Ack<{ snapshot: SeriesResponse; revision: number }>;
export type SubscribeNowAck = Ack<{ snapshot: NowResponse }>;
export interface SeriesUpdate {
  id: string;
  revision: number;
  series: WireSeries[];
  /** Not in docs/api.md's list, but sent: the watermark the update was computed at. */
  watermark?: WireTime | null;
}
export type NowUpdate = { id: string } & NowResponse;
/** Sent by the server to every client every 5 s, whether or not anything changed. */
export interface Heartbeat {
  at: WireTime;
  revision: number | null;
  watermark: WireTime | null;
}

// Admin
export interface ProjectionStatus {
  projection: string;
  servedVersion: number | string | null;
  versions?: { version: number | string; status: string; [more: string]: unknown }[];
  checkpoint: number | string | null;
  lagEvents: number | null;
  lagSeconds: number | null;
  eventsPerSecond: number | null;
  watermark: WireTime | null;
  lastError: string | { message?: string; at?: WireTime } | null;
  deadLetters: number | null;
}

export type RebuildMode = 'full' | 'from-time' | 'from-sequence';

export interface RebuildRequest {
  projection: string;
  mode: RebuildMode;
  from?: string | number;
  reason: string;
}

/**
 * How far a rebuild is, as the projector reports it: nested in a record's `progress` over HTTP, and at
 * the top level of the socket's `operation` events.
 */
export interface RebuildProgress {
  processedEvents?: number;
  remainingEvents?: number;
  eventsPerSecond?: number;
  etaSeconds?: number | null;
  lagEvents?: number;
  lagSeconds?: number;
}

/** A rebuild or replay as the admin endpoints describe it; only `id` is promised by the contract. */
export interface OperationRecord {
  id: string | number;
  kind?: string;
  projection?: string;
  subject?: string;
  mode?: string;
  from?: string | number | null;
  /** What was asked for; the API keeps `mode` and `from` here. */
  options?: { mode?: string; from?: string | number | null; subject?: string; [more: string]: unknown } | null;
  reason?: string;
  status?: string;
  requestedBy?: string;
  createdAt?: WireTime;
  startedAt?: WireTime;
  finishedAt?: WireTime;
  processed?: number;
  remaining?: number;
  eventsPerSecond?: number;
  etaSeconds?: number | null;
  progress?: RebuildProgress | null;
  targetVersion?: number | string;
  version?: number | string | null;
  error?: string | null;
}

/**
 * Socket `operation` events (admins, after `subscribe-operations`). docs/api.md names the counts
 * `processed` and `remaining`; the projector sends `processedEvents` and `remainingEvents`.
 */
export interface OperationProgress extends RebuildProgress {
  id: string | number;
  kind: string;
  status: string;
  processed?: number;
  remaining?: number;
}

/** Mirrors `FieldError` of @pulse/contracts (kept local: the console needs only its shape). */
export interface FieldError {
  pointer?: string;
  field?: string;
  message: string;
}

export interface DeadLetter {
  seq: number;
  stage?: string;
  code?: string;
  reason?: string;
  errors?: FieldError[];
  body?: unknown;
  eventId?: string;
  eventType?: string;
  eventSource?: string;
  producer?: string;
  originalSubject?: string;
  receivedAt?: WireTime;
}

/**
 * The contract names the admin list endpoints but not their envelope: accept a bare array, the
 * `{ rows }` envelope the other list endpoints use, or `{ projections }` (what GET /admin/projections
 * answers, beside its `partitions` and `deadLetters` counts).
 */
export function listOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (typeof body === 'object' && body !== null) {
    for (const key of ['rows', 'items', 'projections', 'rebuilds', 'deadLetters', 'letters']) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value as T[];
    }
  }
  return [];
}
