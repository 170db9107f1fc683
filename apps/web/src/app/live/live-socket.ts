import { effect, inject, Injectable, signal } from '@angular/core';
import { Router } from '@angular/router';
import { io, type Socket } from 'socket.io-client';
import { RUNTIME_CONFIG } from '../config/runtime-config';
import { Session } from '../session/session';

export type SocketStatus = 'idle' | 'connecting' | 'connected' | 'disconnected';

const ACK_TIMEOUT_MS = 5000;
let counter = 0;

/** Subscription ids only need to be unique within this socket; no crypto (it needs a secure context). */
export function subscriptionId(prefix: string): string {
  return `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * The one Socket.IO connection to the `/live` namespace for the signed-in session.
 *
 * Subscriptions live on the server side of a connection, so they die with it. Features therefore
 * register `onConnect` callbacks that (re)subscribe on every connection, and emits are refused while
 * disconnected instead of being buffered by socket.io: a buffered subscribe replayed after a reconnect
 * would duplicate the one the callback sends.
 */
@Injectable({ providedIn: 'root' })
export class LiveSocket {
  private readonly apiUrl = inject(RUNTIME_CONFIG).apiUrl;
  private readonly session = inject(Session);
  private readonly router = inject(Router);
  private socket: Socket | null = null;
  private readonly connectCallbacks = new Set<() => void>();
  private readonly listeners = new Map<string, Set<(message: never) => void>>();

  readonly status = signal<SocketStatus>('idle');
  /** When the connection was last lost (ms), for "offline since". */
  readonly downSince = signal<number | null>(null);
  /** Why the server refused us, when it did. */
  readonly problem = signal<string | null>(null);

  constructor() {
    // The connection belongs to a signed-in user: open it with the token, drop it on sign-out.
    effect(() => {
      const token = this.session.token();
      const user = this.session.user();
      if (token && user) this.open();
      else this.close();
    });
  }

  /** Calls `callback` now if connected, and on every later (re)connection, until the returned function is called. */
  onConnect(callback: () => void): () => void {
    this.connectCallbacks.add(callback);
    if (this.socket?.connected) callback();
    return () => this.connectCallbacks.delete(callback);
  }

  /**
   * Keeps one server-side subscription `id` fed: `subscribe` on every (re)connection, `fetchOverHttp`
   * now and every `pollMs` while the socket is down. The returned function unsubscribes and stops both.
   */
  follow(id: string, subscribe: () => Promise<void>, fetchOverHttp: () => Promise<void>, pollMs: number): () => void {
    const offConnect = this.onConnect(() => void subscribe());
    if (this.status() !== 'connected') void fetchOverHttp();
    const poll = setInterval(() => {
      if (this.status() !== 'connected') void fetchOverHttp();
    }, pollMs);
    return () => {
      clearInterval(poll);
      offConnect();
      this.send('unsubscribe', { id });
    };
  }

  on<T>(event: string, handler: (message: T) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
      this.socket?.on(event, (message: unknown) => this.dispatch(event, message));
    }
    set.add(handler as (message: never) => void);
    return () => set.delete(handler as (message: never) => void);
  }

  /** Emits with an acknowledgement; rejects at once when not connected, or after a timeout. */
  async request<T>(event: string, payload: unknown): Promise<T> {
    const socket = this.socket;
    if (!socket?.connected) throw new Error('The live connection is down.');
    return (await socket.timeout(ACK_TIMEOUT_MS).emitWithAck(event, payload)) as T;
  }

  /** Fire-and-forget for goodbyes (`unsubscribe`): nothing to do if the connection is gone anyway. */
  send(event: string, payload: unknown): void {
    if (this.socket?.connected) this.socket.emit(event, payload);
  }

  private dispatch(event: string, message: unknown): void {
    for (const handler of this.listeners.get(event) ?? []) (handler as (m: unknown) => void)(message);
  }

  private open(): void {
    if (this.socket) return;
    this.problem.set(null);
    this.status.set('connecting');
    const socket = io(`${this.apiUrl}/live`, {
      path: '/socket.io',
      // A function, so every reconnection sends the token of the moment.
      auth: (send) => send({ token: this.session.token() }),
      reconnectionDelay: 500,
      reconnectionDelayMax: 5000,
    });
    this.socket = socket;
    for (const event of this.listeners.keys()) socket.on(event, (message: unknown) => this.dispatch(event, message));
    socket.on('connect', () => {
      this.status.set('connected');
      this.downSince.set(null);
      this.problem.set(null);
      for (const callback of [...this.connectCallbacks]) callback();
    });
    socket.on('disconnect', (reason) => {
      this.markDown();
      // The server closed us on purpose; socket.io does not retry that by itself.
      if (reason === 'io server disconnect') setTimeout(() => this.socket === socket && socket.connect(), 2000);
    });
    socket.on('connect_error', (error: Error & { data?: { code?: string; detail?: string } }) => {
      this.markDown();
      const code = error.data?.code;
      if (code === 'unauthenticated') {
        this.problem.set('The live socket refused the token.');
        this.session.end('The live connection refused your token (unauthenticated). Sign in again.');
        void this.router.navigateByUrl('/sign-in');
      } else if (code === 'forbidden') {
        this.problem.set('This token may not use the live socket (forbidden).');
      } else {
        this.problem.set(`Cannot connect: ${error.message}`);
        // A refusal from a middleware stops socket.io's own retries; keep trying while signed in.
        if (!socket.active) setTimeout(() => this.socket === socket && socket.connect(), 5000);
      }
    });
  }

  private markDown(): void {
    this.status.set('disconnected');
    if (this.downSince() === null) this.downSince.set(Date.now());
  }

  private close(): void {
    this.socket?.removeAllListeners();
    this.socket?.disconnect();
    this.socket = null;
    this.status.set('idle');
    this.downSince.set(null);
  }
}
