import { PROJECTIONS, type ProjectionName } from './metrics.js';

/**
 * What an admin may ask of a rebuild, checked without any I/O so the API, the NATS command and the
 * projector agree on it.
 *   full           a new version from the first event in the store
 *   from-time      keep the served version's buckets before `from` (rounded down to the minute) and
 *                  re-project every event whose event time is at or after it
 *   from-sequence  the same, from the earliest event time found at stream sequence `from`
 */
export type RebuildMode = 'full' | 'from-time' | 'from-sequence';

export interface RebuildRequest {
  projection: ProjectionName;
  mode: RebuildMode;
  /** ISO time for from-time, a stream sequence for from-sequence. */
  from?: string | number;
  reason: string;
  /** Events per second the rebuild may use at most; it also yields whenever the live pipeline lags. */
  maxEventsPerSecond?: number;
  /**
   * Validate and de-duplicate every stored event again instead of following the live pipeline's recorded
   * decisions: slower, for when those decisions themselves are in doubt.
   */
  reverify?: boolean;
}

export type RebuildCheck = { ok: true; request: RebuildRequest } | { ok: false; problems: string[] };

export function checkRebuildRequest(input: Record<string, unknown>): RebuildCheck {
  const problems: string[] = [];
  const projection = input.projection;
  if (typeof projection !== 'string' || !(PROJECTIONS as readonly string[]).includes(projection)) problems.push(`projection must be one of ${PROJECTIONS.join(', ')}`);
  const mode = input.mode ?? 'full';
  if (mode !== 'full' && mode !== 'from-time' && mode !== 'from-sequence') problems.push('mode must be full, from-time or from-sequence');
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (reason.length < 3) problems.push('a reason is required: say why the projection is rebuilt (it goes in the audit record)');
  let from: string | number | undefined;
  if (mode === 'from-time') {
    if (typeof input.from !== 'string' || Number.isNaN(Date.parse(input.from))) problems.push('from-time needs `from`, an ISO date-time');
    else from = new Date(Math.floor(Date.parse(input.from) / 60_000) * 60_000).toISOString();
  }
  if (mode === 'from-sequence') {
    const seq = Number(input.from);
    if (!Number.isInteger(seq) || seq < 1) problems.push('from-sequence needs `from`, a stream sequence >= 1');
    else from = seq;
  }
  const max = input.maxEventsPerSecond;
  if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 100)) problems.push('maxEventsPerSecond must be an integer >= 100');
  if (input.reverify !== undefined && typeof input.reverify !== 'boolean') problems.push('reverify must be true or false');
  if (problems.length) return { ok: false, problems };
  return { ok: true, request: { projection: projection as ProjectionName, mode: mode as RebuildMode, from, reason, maxEventsPerSecond: max as number | undefined, reverify: input.reverify === true } };
}

export interface RebuildProgress {
  processedEvents: number;
  remainingEvents: number;
  eventsPerSecond: number;
  etaSeconds: number | null;
  lagEvents: number;
  lagSeconds: number;
}

/** Progress figures from positions in the stream; `eventsPerMessage` turns messages into events. */
export function rebuildProgress(input: { processedEvents: number; position: number; head: number; eventsPerMessage: number; eventsPerSecond: number; storedLagMs: number }): RebuildProgress {
  const remainingMessages = Math.max(0, input.head - input.position);
  const remainingEvents = Math.round(remainingMessages * input.eventsPerMessage);
  return {
    processedEvents: input.processedEvents,
    remainingEvents,
    eventsPerSecond: Math.round(input.eventsPerSecond),
    etaSeconds: remainingEvents === 0 ? 0 : input.eventsPerSecond > 0 ? Math.ceil(remainingEvents / input.eventsPerSecond) : null,
    lagEvents: remainingEvents,
    lagSeconds: remainingMessages === 0 ? 0 : Math.max(0, input.storedLagMs / 1000),
  };
}
