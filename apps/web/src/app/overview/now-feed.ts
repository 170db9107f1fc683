import { DestroyRef, effect, inject, signal, untracked } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import type { NowResponse, NowUpdate, SubscribeNowAck } from '../api/contract';
import { Freshness } from '../live/freshness';
import { LiveSocket, subscriptionId } from '../live/live-socket';

/** While the socket is down, tiles are refreshed over HTTP this often (and shown as not live). */
const HTTP_FALLBACK_MS = 5_000;

/**
 * The overview tiles: `subscribe-now` on the live socket and its `now` pushes, `GET /now` while the
 * socket is down. A picture never replaces one of a higher revision (an HTTP answer can be slower than
 * the push that overtook it).
 */
export class NowFeed {
  readonly snapshot = signal<NowResponse | null>(null);
  readonly source = signal<'socket' | 'http' | null>(null);
  readonly error = signal<string | null>(null);
  /** When the tiles last changed, ms. */
  readonly receivedAt = signal<number | null>(null);

  private readonly socket = inject(LiveSocket);
  private readonly api = inject(Api);
  private readonly freshness = inject(Freshness);

  constructor(currency: () => string) {
    effect((onCleanup) => {
      const c = currency();
      onCleanup(untracked(() => this.follow(c)));
    });
    const stopExpecting = this.freshness.expectStream();
    inject(DestroyRef).onDestroy(stopExpecting);
  }

  private follow(currency: string): () => void {
    const id = subscriptionId('now');
    let stopped = false;
    this.snapshot.set(null);
    this.error.set(null);

    const apply = (now: NowResponse, via: 'socket' | 'http') => {
      const current = this.snapshot();
      if (current && (now.revision ?? 0) < (current.revision ?? 0)) return;
      this.snapshot.set(now);
      this.source.set(via);
      this.receivedAt.set(Date.now());
      this.freshness.received();
    };

    const subscribe = async () => {
      try {
        const ack = await this.socket.request<SubscribeNowAck>('subscribe-now', { id, currency });
        if (stopped) return;
        if (!ack.ok) {
          this.error.set(`${ack.detail ?? 'The live tiles were refused'} (${ack.code})`);
          return;
        }
        this.error.set(null);
        // A fresh snapshot after a reconnect is the truth, whatever revision we showed before.
        this.snapshot.set(null);
        apply(ack.snapshot, 'socket');
      } catch (error) {
        if (!stopped) this.error.set(`Live tiles failed: ${describeError(error)}`);
      }
    };

    const fetchOverHttp = async () => {
      try {
        const now = await this.api.get<NowResponse>('/now', { currency });
        if (stopped || this.socket.status() === 'connected') return;
        apply(now, 'http');
        this.error.set(null);
      } catch (error) {
        if (!stopped) this.error.set(describeError(error));
      }
    };

    const offNow = this.socket.on<NowUpdate>('now', (message) => {
      if (stopped || message.id !== id) return;
      const { id: _id, ...now } = message;
      apply(now, 'socket');
    });
    const unfollow = this.socket.follow(id, subscribe, fetchOverHttp, HTTP_FALLBACK_MS);

    return () => {
      stopped = true;
      offNow();
      unfollow();
    };
  }
}
