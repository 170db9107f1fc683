import { computed, DestroyRef, inject, signal } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import type { OperationProgress, OperationRecord } from '../api/contract';
import { LiveSocket } from '../live/live-socket';

const POLL_MS = 1000;
/** Without an `operation` event for this long, the tracker asks over HTTP instead. */
const SOCKET_SILENCE_MS = 2500;
const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'canceled']);

export interface TrackedRebuild {
  id: string | number;
  projection: string;
  /** The version served when the rebuild started: done means a different one is served. */
  servedBefore: string | null;
  status: string;
  processed: number;
  remaining: number;
  eventsPerSecond: number | null;
  etaSeconds: number | null;
  lagEvents: number | null;
  error: string | null;
  via: 'socket' | 'http' | null;
}

export function isTerminal(status: string | undefined): boolean {
  return !!status && TERMINAL.has(status);
}

/** Ids are numbers on the wire today; compared as text so a string id would match too. */
const sameId = (a: string | number, b: string | number) => String(a) === String(b);

type ProgressFields = Pick<TrackedRebuild, 'processed' | 'remaining' | 'eventsPerSecond' | 'etaSeconds' | 'lagEvents'>;

/**
 * The counts of a record or an `operation` event, whichever shape they come in: flat `processed` and
 * `remaining` (docs/api.md), flat `processedEvents` and `remainingEvents` (the socket events), or nested
 * in `progress` (HTTP records). A field that is absent stays undefined, so it does not reset what is shown.
 */
function progressOf(update: Partial<OperationProgress & OperationRecord>): Partial<ProgressFields> {
  const nested = update.progress ?? {};
  return {
    processed: update.processed ?? update.processedEvents ?? nested.processedEvents,
    remaining: update.remaining ?? update.remainingEvents ?? nested.remainingEvents,
    eventsPerSecond: update.eventsPerSecond ?? nested.eventsPerSecond,
    etaSeconds: update.etaSeconds !== undefined ? update.etaSeconds : nested.etaSeconds,
    lagEvents: update.lagEvents ?? nested.lagEvents,
  };
}

/**
 * Follows one rebuild to its end: `operation` events from the live socket after `subscribe-operations`,
 * and `GET /admin/rebuilds/:id` every second whenever those go quiet (socket down, or an API that does
 * not push). The rebuild is done only when it reports `completed` and the projection serves a new
 * version; the page watches the second half.
 */
export class RebuildTracker {
  readonly current = signal<TrackedRebuild | null>(null);
  readonly cancelError = signal<string | null>(null);
  readonly cancelling = signal(false);
  readonly percent = computed(() => {
    const r = this.current();
    if (!r) return 0;
    if (r.status === 'completed') return 100;
    const total = r.processed + r.remaining;
    return total > 0 ? Math.min(100, (r.processed / total) * 100) : 0;
  });

  private readonly api = inject(Api);
  private readonly socket = inject(LiveSocket);
  private lastSocketEvent = 0;
  private poll: ReturnType<typeof setInterval> | null = null;

  constructor() {
    const offConnect = this.socket.onConnect(() => void this.socket.request('subscribe-operations', {}).catch(() => undefined));
    const offOperation = this.socket.on<OperationProgress>('operation', (event) => {
      const r = this.current();
      if (!r || !sameId(event.id, r.id)) return;
      this.lastSocketEvent = Date.now();
      this.merge(event, 'socket');
    });
    inject(DestroyRef).onDestroy(() => {
      offConnect();
      offOperation();
      this.stopPolling();
    });
  }

  track(record: OperationRecord, projection: string, servedBefore: string | null): void {
    this.cancelError.set(null);
    const progress = progressOf(record);
    this.current.set({
      id: record.id,
      projection,
      servedBefore,
      status: record.status ?? 'queued',
      processed: progress.processed ?? 0,
      remaining: progress.remaining ?? 0,
      eventsPerSecond: progress.eventsPerSecond ?? null,
      etaSeconds: progress.etaSeconds ?? null,
      lagEvents: progress.lagEvents ?? null,
      error: null,
      via: null,
    });
    this.lastSocketEvent = 0;
    this.stopPolling();
    this.poll = setInterval(() => void this.pollOnce(), POLL_MS);
  }

  async cancel(): Promise<void> {
    const r = this.current();
    if (!r) return;
    this.cancelling.set(true);
    this.cancelError.set(null);
    try {
      const record = await this.api.post<OperationRecord | null>(`/admin/rebuilds/${encodeURIComponent(r.id)}/cancel`, {});
      if (record && typeof record === 'object') this.merge(record, 'http');
    } catch (error) {
      this.cancelError.set(describeError(error));
    } finally {
      this.cancelling.set(false);
    }
  }

  clear(): void {
    this.stopPolling();
    this.current.set(null);
  }

  private async pollOnce(): Promise<void> {
    const r = this.current();
    if (!r) return;
    if (isTerminal(r.status)) return this.stopPolling();
    if (this.socket.status() === 'connected' && Date.now() - this.lastSocketEvent < SOCKET_SILENCE_MS) return;
    try {
      const record = await this.api.get<OperationRecord>(`/admin/rebuilds/${encodeURIComponent(r.id)}`);
      this.merge(record, 'http');
    } catch (error) {
      this.current.update((c) => (c && c.id === r.id ? { ...c, error: describeError(error) } : c));
    }
  }

  private merge(update: Partial<OperationProgress & OperationRecord>, via: 'socket' | 'http'): void {
    this.current.update((c) => {
      if (!c || (update.id !== undefined && !sameId(update.id, c.id))) return c;
      const progress = progressOf(update);
      return {
        ...c,
        status: update.status ?? c.status,
        processed: progress.processed ?? c.processed,
        remaining: progress.remaining ?? c.remaining,
        eventsPerSecond: progress.eventsPerSecond ?? c.eventsPerSecond,
        etaSeconds: progress.etaSeconds !== undefined ? progress.etaSeconds : c.etaSeconds,
        lagEvents: progress.lagEvents ?? c.lagEvents,
        error: update.error ?? null,
        via,
      };
    });
    if (isTerminal(this.current()?.status)) this.stopPolling();
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }
}
