import { computed, inject, Injectable, signal } from '@angular/core';
import type { Heartbeat } from '../api/contract';
import { LiveSocket } from './live-socket';

export type Liveness = 'live' | 'stale' | 'offline';

/**
 * The server pushes at most every 100 ms (by default) and, while the shop has traffic, the newest bucket changes on
 * nearly every push; when nothing changes (a quiet shop) it still sends a heartbeat every 5 s. Ten
 * seconds without a single message, data or heartbeat, means the pipeline or the connection stalled,
 * even if the socket still claims to be connected.
 */
export const STALE_AFTER_MS = 10_000;
const TICK_MS = 250;

/**
 * Whether the numbers on screen are live. Live streams report each message here; the header and the
 * screens read one verdict, so no screen can show a frozen number as if it were current.
 */
@Injectable({ providedIn: 'root' })
export class Freshness {
  private readonly socket = inject(LiveSocket);
  /** A clock for "updated N ms ago"; ticking only matters to the texts that read it. */
  readonly now = signal(Date.now());
  readonly lastDataAt = signal<number | null>(null);
  /** The last sign of life: a message from a live stream or a heartbeat. Only this decides staleness. */
  private readonly lastHeardAt = signal<number | null>(null);
  private readonly streams = signal(0);
  /** A stream that just started gets the same grace as one that just delivered. */
  private readonly expectingSince = signal(0);

  readonly state = computed<Liveness>(() => {
    if (this.socket.status() !== 'connected') return 'offline';
    if (this.streams() === 0) return 'live';
    const last = Math.max(this.lastHeardAt() ?? 0, this.expectingSince());
    return this.now() - last <= STALE_AFTER_MS ? 'live' : 'stale';
  });

  /**
   * Since when the numbers stopped being live: the last message or heartbeat (what was shown was current
   * then), or the moment the connection dropped.
   */
  readonly staleSince = computed<number | null>(() => {
    if (this.state() === 'live') return null;
    return this.lastHeardAt() ?? this.socket.downSince() ?? this.expectingSince();
  });

  readonly age = computed(() => {
    const last = this.lastDataAt();
    return last === null ? null : this.now() - last;
  });

  constructor() {
    setInterval(() => this.now.set(Date.now()), TICK_MS);
    // A heartbeat says the connection and the server are alive and nothing was left unsent: the
    // numbers on screen are still current, however long ago they last changed.
    this.socket.on<Heartbeat>('heartbeat', () => this.heard(Date.now()));
  }

  received(): void {
    const now = Date.now();
    this.lastDataAt.set(now);
    this.heard(now);
  }

  private heard(now: number): void {
    this.lastHeardAt.set(now);
    this.now.set(now);
  }

  /** A screen that expects a steady stream says so while it is shown. */
  expectStream(): () => void {
    this.streams.update((n) => n + 1);
    this.expectingSince.set(Date.now());
    return () => this.streams.update((n) => n - 1);
  }
}
