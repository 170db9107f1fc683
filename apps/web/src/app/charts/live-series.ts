import { DestroyRef, effect, inject, signal, untracked } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import type { Dims, LiveGrain, SeriesResponse, SeriesUpdate, SubscribeAck } from '../api/contract';
import { toMs } from '../display/display';
import { Freshness } from '../live/freshness';
import { LiveSocket, subscriptionId } from '../live/live-socket';
import { fromSnapshot, mergeUpdate, trimToWindow, type BucketSeries } from './series-points';

export interface SeriesQuery {
  metric: string;
  grain: LiveGrain;
  windowSeconds: number;
  groupBy?: string;
  filters?: Dims;
}

/** While the socket is down the chart is refreshed over HTTP this often (and marked as not live). */
const HTTP_FALLBACK_MS = 10_000;

/**
 * A metric's buckets kept current: `subscribe` on the live socket, `update`s merged by bucket time, and
 * on every reconnection a new `subscribe` with `lastRevision` whose snapshot replaces what is shown
 * (the server promises a full snapshot, never a silent gap). While the socket is down, `GET /series`
 * keeps the picture from freezing, and the Freshness verdict says it is not live.
 *
 * Create in an injection context; it follows `query()` and stops with its owner.
 */
export class LiveSeries {
  readonly series = signal<BucketSeries[]>([]);
  readonly watermark = signal<number | null>(null);
  readonly revision = signal(0);
  readonly error = signal<string | null>(null);
  readonly loading = signal(true);
  /** How the current picture arrived. */
  readonly source = signal<'socket' | 'http' | null>(null);

  private readonly socket = inject(LiveSocket);
  private readonly api = inject(Api);
  private readonly freshness = inject(Freshness);

  constructor(query: () => SeriesQuery | null) {
    effect((onCleanup) => {
      const q = query();
      if (!q) return;
      onCleanup(untracked(() => this.follow(q)));
    });
    const stopExpecting = this.freshness.expectStream();
    inject(DestroyRef).onDestroy(stopExpecting);
  }

  private follow(q: SeriesQuery): () => void {
    const id = subscriptionId('series');
    const windowMs = q.windowSeconds * 1000;
    let stopped = false;
    this.series.set([]);
    this.revision.set(0);
    this.watermark.set(null);
    this.error.set(null);
    this.loading.set(true);
    this.source.set(null);

    const apply = (snapshot: SeriesResponse, via: 'socket' | 'http') => {
      this.series.set(trimToWindow(fromSnapshot(snapshot.series ?? []), windowMs));
      this.watermark.set(toMs(snapshot.watermark));
      this.revision.set(snapshot.revision ?? 0);
      this.source.set(via);
      this.loading.set(false);
      this.freshness.received();
    };

    const subscribe = async () => {
      const lastRevision = this.revision() || undefined;
      try {
        const ack = await this.socket.request<SubscribeAck>('subscribe', { id, ...q, lastRevision });
        if (stopped) return;
        if (!ack.ok) {
          this.error.set(`${ack.detail ?? 'The live subscription was refused'} (${ack.code})`);
          this.loading.set(false);
          return;
        }
        this.error.set(null);
        apply({ ...ack.snapshot, revision: Math.max(ack.revision ?? 0, ack.snapshot.revision ?? 0) }, 'socket');
      } catch (error) {
        if (!stopped) this.error.set(`Live subscription failed: ${describeError(error)}`);
      }
    };

    const fetchOverHttp = async () => {
      const to = Date.now();
      try {
        const snapshot = await this.api.get<SeriesResponse>('/series', {
          metric: q.metric,
          grain: q.grain,
          from: new Date(to - windowMs).toISOString(),
          to: new Date(to).toISOString(),
          groupBy: q.groupBy,
          filter: Object.entries(q.filters ?? {}).map(([k, v]) => `${k}:${v}`),
        });
        // The socket may have answered meanwhile; never step back to an older revision.
        if (stopped || this.socket.status() === 'connected' || (snapshot.revision ?? 0) < this.revision()) return;
        apply(snapshot, 'http');
        this.error.set(null);
      } catch (error) {
        if (!stopped) {
          this.error.set(describeError(error));
          this.loading.set(false);
        }
      }
    };

    const offUpdate = this.socket.on<SeriesUpdate>('update', (update) => {
      if (stopped || update.id !== id) return;
      this.series.update((current) => mergeUpdate(current, update.series ?? [], windowMs));
      this.revision.update((r) => Math.max(r, update.revision ?? r));
      // Updates carry the watermark too (docs/api.md lists it for snapshots only): without it, the one
      // shown would stay where the subscription found it. Watermarks only move forward.
      const watermark = toMs(update.watermark);
      if (watermark !== null) this.watermark.update((w) => Math.max(w ?? watermark, watermark));
      this.source.set('socket');
      this.freshness.received();
    });
    const unfollow = this.socket.follow(id, subscribe, fetchOverHttp, HTTP_FALLBACK_MS);

    return () => {
      stopped = true;
      offUpdate();
      unfollow();
    };
  }
}
