import { Inject, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConnectedSocket, MessageBody, SubscribeMessage, WebSocketGateway, WebSocketServer, type OnGatewayConnection, type OnGatewayDisconnect, type OnGatewayInit } from '@nestjs/websockets';
import type { Subscription } from '@nats-io/transport-node';
import type { ReadModelChanged } from '@pulse/contracts';
import { baseMetricsOf, GRAIN_MS, metricNamed, type Grain } from '@pulse/domain';
import type { Namespace, Socket } from 'socket.io';
import { bearer, TokenRegistry } from '../auth/access.js';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { validateInput, type ObjectSchema } from '../http/endpoint.js';
import { Problem } from '../http/problem.js';
import { Nats } from '../nats/nats.module.js';
import { Metrics } from '../operations/metrics.js';
import { queryNow } from '../read-models/now-tiles.js';
import { ReadModels } from '../read-models/read-models.js';
import { MAX_POINTS, querySeries, resolveMetric, type SeriesResult } from '../read-models/series.js';

const subscribeSchema: ObjectSchema = {
  type: 'object',
  required: ['id', 'metric', 'grain', 'windowSeconds'],
  properties: {
    id: { type: 'string', minLength: 1, maxLength: 64 },
    metric: { type: 'string' },
    grain: { type: 'string', enum: ['1s', '1m', '1h'] },
    windowSeconds: { type: 'integer', minimum: 1, maximum: 7 * 86_400 },
    groupBy: { type: 'array', items: { type: 'string' }, maxItems: 2 },
    filters: { type: 'object', additionalProperties: { type: 'string' } },
    lastRevision: { type: 'integer', minimum: 0 },
  },
};
const subscribeNowSchema: ObjectSchema = { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 }, currency: { type: 'string', pattern: '^[A-Z]{3}$' }, lastRevision: { type: 'integer' } } };
const unsubscribeSchema: ObjectSchema = { type: 'object', required: ['id'], properties: { id: { type: 'string' } } };

interface SeriesKey {
  kind: 'series';
  metric: string;
  grain: Grain;
  windowSeconds: number;
  groupBy: string[];
  filters: Record<string, string>;
  base: string[];
}
interface NowKey {
  kind: 'now';
  currency: string;
}

/** A distinct thing clients watch. Clients asking the same share one entry: one query feeds all of them. */
interface Watched {
  key: string;
  spec: SeriesKey | NowKey;
  /** socket id -> the client's own subscription id */
  sockets: Map<string, string>;
  dirty: { fromMs: number; toMs: number } | null;
  lastPushMs: number;
  /** The watermark the last push reflected: when it moves, buckets turn final and are pushed again. */
  watermarkMs: number | null;
}

const NOW_PROJECTIONS = new Set(['sales', 'checkout', 'funnel', 'traffic']);
const OPERATIONS_ROOM = 'operations';
const HEARTBEAT_MS = 5000;
/** The overview tiles are recomputed at least this often, changes or not: their windows move with time. */
const NOW_REFRESH_MS = 2000;

/**
 * The live channel. Every API instance subscribes to the projector's change notifications on NATS, so
 * any instance can serve any client (no sticky state). Changes are coalesced per watched query and
 * pushed at most once per push interval, however many events arrive; every push carries the highest
 * read-model revision it includes, and a client that (re)subscribes gets a full snapshot.
 *
 * A push goes out as soon as a change arrives when the last one is an interval old, else when the
 * interval ends: on a clock of its own the push loop made every change wait for its next tick, up to a
 * whole interval, while notifications arrive on the projector's cadence.
 */
@WebSocketGateway({ namespace: '/live', cors: { origin: true } })
export class LiveGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect, OnModuleInit, OnApplicationShutdown {
  @WebSocketServer() server!: Namespace;
  private readonly log = new Logger('live');
  private readonly registry: TokenRegistry;
  private readonly watched = new Map<string, Watched>();
  private subscription?: Subscription;
  private operationsSubscription?: Subscription;
  private timer?: NodeJS.Timeout;
  private pushTimer?: NodeJS.Timeout;
  private lastPushMs = -Infinity;
  private heartbeat?: NodeJS.Timeout;
  private flushing = false;

  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly models: ReadModels,
    private readonly nats: Nats,
    private readonly metrics: Metrics,
  ) {
    this.registry = new TokenRegistry(config.tokens);
  }

  afterInit(server: Namespace): void {
    // 401/403 on the socket: the handshake is refused with the same codes as HTTP.
    server.use((socket, next) => {
      try {
        const token = (socket.handshake.auth as { token?: string } | undefined)?.token ?? bearer(socket.handshake.headers.authorization);
        socket.data.principal = this.registry.authorize(token, 'operator');
        next();
      } catch (e) {
        const p = e as Problem;
        const error = new Error(p.detail ?? 'unauthenticated') as Error & { data: unknown };
        error.data = { code: p.code ?? 'unauthenticated', status: p.getStatus?.() ?? 401 };
        next(error);
      }
    });
  }

  onModuleInit(): void {
    this.subscription = this.nats.connection.subscribe(this.config.names.allChanges(), {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.changed(msg.json<ReadModelChanged>());
        } catch (e) {
          this.log.warn(`bad change notification: ${(e as Error).message}`);
        }
      },
    });
    // Rebuild and replay progress, forwarded as it comes (about once a second per operation) to admins.
    this.operationsSubscription = this.nats.connection.subscribe(`${this.config.names.root}.operations.>`, {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.server.to(OPERATIONS_ROOM).emit('operation', msg.json<Record<string, unknown>>());
        } catch (e) {
          this.log.warn(`bad operation event: ${(e as Error).message}`);
        }
      },
    });
    this.timer = setInterval(() => void this.passTime(), this.config.pushIntervalMs);
    // A heartbeat lets a console tell a quiet shop from a dead connection.
    this.heartbeat = setInterval(() => void this.beat(), HEARTBEAT_MS);
  }

  private async beat(): Promise<void> {
    try {
      const sales = await this.models.servedVersion('sales');
      const watermark = await this.models.watermarkMs(sales);
      this.server.emit('heartbeat', { at: new Date().toISOString(), revision: await this.models.currentRevision(), watermark: watermark === null ? null : new Date(watermark).toISOString() });
    } catch {
      this.server.emit('heartbeat', { at: new Date().toISOString(), revision: null, watermark: null });
    }
  }

  onApplicationShutdown(): void {
    this.subscription?.unsubscribe();
    this.operationsSubscription?.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    if (this.pushTimer) clearTimeout(this.pushTimer);
    if (this.heartbeat) clearInterval(this.heartbeat);
  }

  @SubscribeMessage('subscribe-operations')
  subscribeOperations(@ConnectedSocket() socket: Socket) {
    return this.answer(async () => {
      const principal = socket.data.principal as { role: string; name: string };
      if (principal.role !== 'admin') throw new Problem(403, 'forbidden', `the ${principal.role} token "${principal.name}" may not watch admin operations`);
      await socket.join(OPERATIONS_ROOM);
      return { ok: true };
    });
  }

  handleConnection(): void {
    this.metrics.clients.inc();
  }

  handleDisconnect(socket: Socket): void {
    this.metrics.clients.dec();
    for (const w of this.watched.values()) w.sockets.delete(socket.id);
    this.prune();
  }

  @SubscribeMessage('subscribe')
  async subscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown) {
    return this.answer(async () => {
      const q = validateInput<{ id: string; metric: string; grain: Grain; windowSeconds: number; groupBy?: string[]; filters?: Record<string, string> }>(subscribeSchema, body, 'body');
      const metric = resolveMetric({ metric: q.metric, grain: q.grain, groupBy: q.groupBy ?? [], filters: q.filters ?? {} });
      if (q.windowSeconds * 1000 / GRAIN_MS[q.grain] > MAX_POINTS) throw new Problem(400, 'too_many_points', `a ${q.windowSeconds} s window at ${q.grain} is more than ${MAX_POINTS} buckets`);
      const spec: SeriesKey = { kind: 'series', metric: metric.name, grain: q.grain, windowSeconds: q.windowSeconds, groupBy: q.groupBy ?? [], filters: q.filters ?? {}, base: baseMetricsOf(metric) };
      this.watch(socket, q.id, spec);
      const snapshot = await this.seriesNow(spec);
      return { ok: true, snapshot, revision: snapshot.revision };
    });
  }

  @SubscribeMessage('subscribe-now')
  async subscribeNow(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown) {
    return this.answer(async () => {
      const q = validateInput<{ id: string; currency?: string }>(subscribeNowSchema, body, 'body');
      const spec: NowKey = { kind: 'now', currency: q.currency ?? this.config.shop.currency };
      this.watch(socket, q.id, spec);
      const snapshot = await queryNow(this.models, { nowMs: Date.now(), currency: spec.currency, timeZone: this.config.shop.timeZone });
      return { ok: true, snapshot, revision: snapshot.revision };
    });
  }

  @SubscribeMessage('unsubscribe')
  unsubscribe(@ConnectedSocket() socket: Socket, @MessageBody() body: unknown) {
    return this.answer(async () => {
      const { id } = validateInput<{ id: string }>(unsubscribeSchema, body, 'body');
      for (const w of this.watched.values()) if (w.sockets.get(socket.id) === id) w.sockets.delete(socket.id);
      this.prune();
      return { ok: true };
    });
  }

  private async answer<T>(work: () => Promise<T>): Promise<T | { ok: false; code: string; detail: string }> {
    try {
      return await work();
    } catch (e) {
      if (e instanceof Problem) return { ok: false, code: e.code, detail: e.detail };
      this.log.error((e as Error).stack);
      return { ok: false, code: 'internal_error', detail: 'the subscription failed; it has been logged' };
    }
  }

  private watch(socket: Socket, id: string, spec: SeriesKey | NowKey): void {
    // One socket may reuse an id for a new query: the old one goes.
    for (const w of this.watched.values()) if (w.sockets.get(socket.id) === id) w.sockets.delete(socket.id);
    const key = JSON.stringify(spec);
    let w = this.watched.get(key);
    if (!w) {
      w = { key, spec, sockets: new Map(), dirty: null, lastPushMs: 0, watermarkMs: null };
      this.watched.set(key, w);
    }
    w.sockets.set(socket.id, id);
    this.prune();
  }

  private prune(): void {
    for (const [key, w] of this.watched) if (!w.sockets.size) this.watched.delete(key);
    this.metrics.subscriptions.set(this.watched.size);
  }

  private windowOf(spec: SeriesKey, nowMs: number): { fromMs: number; toMs: number } {
    const size = GRAIN_MS[spec.grain];
    const toMs = Math.floor(nowMs / size) * size + size;
    return { fromMs: toMs - Math.ceil((spec.windowSeconds * 1000) / size) * size, toMs };
  }

  private seriesNow(spec: SeriesKey, range?: { fromMs: number; toMs: number }): Promise<SeriesResult> {
    const window = this.windowOf(spec, Date.now());
    const fromMs = Math.max(window.fromMs, range?.fromMs ?? window.fromMs);
    const toMs = Math.min(window.toMs, range?.toMs ?? window.toMs);
    return querySeries(this.models, { metric: spec.metric, grain: spec.grain, fromMs, toMs, groupBy: spec.groupBy, filters: spec.filters });
  }

  /** Marks what a notification touched; the push loop turns it into at most one update per interval. */
  private changed(n: ReadModelChanged): void {
    this.models.noticeRevision(n.revision);
    this.models.noticeVersion(n.projection, n.version);
    this.metrics.pushLatency.observe(Math.max(0, Date.now() - Date.parse(n.emittedAt)) / 1000);
    for (const w of this.watched.values()) {
      if (w.spec.kind === 'now') {
        if (NOW_PROJECTIONS.has(n.projection)) w.dirty = { fromMs: 0, toMs: 0 };
        continue;
      }
      const spec = w.spec;
      for (const c of n.changes) {
        if (!spec.base.includes(c.metric)) continue;
        // 1s subscriptions follow 1s buckets; minutes, hours and days change with their minutes.
        if ((spec.grain === '1s') !== (c.grain === '1s')) continue;
        const size = GRAIN_MS[spec.grain];
        const fromMs = Math.floor(Date.parse(c.from) / size) * size;
        const toMs = Math.ceil(Date.parse(c.to) / size) * size;
        w.dirty = w.dirty ? { fromMs: Math.min(w.dirty.fromMs, fromMs), toMs: Math.max(w.dirty.toMs, toMs) } : { fromMs, toMs };
      }
    }
    this.schedulePush();
  }

  /** Pushes what is marked as soon as the last push is an interval old. */
  private schedulePush(): void {
    if (this.pushTimer) return;
    this.pushTimer = setTimeout(
      () => {
        this.pushTimer = undefined;
        void this.flush();
      },
      Math.max(0, this.lastPushMs + this.config.pushIntervalMs - Date.now()),
    );
  }

  /** Whether a push is owed to someone; the overview, held to one a second, only when `overview`. */
  private owed(overview: boolean): boolean {
    for (const w of this.watched.values()) if (w.dirty && w.sockets.size && (overview || w.spec.kind !== 'now')) return true;
    return false;
  }

  /** Once an interval: what time alone changed, and any push still owed (a retry, the overview). */
  private async passTime(): Promise<void> {
    const nowMs = Date.now();
    await Promise.all([...this.watched.values()].map((w) => this.markTimePassing(w, nowMs)));
    if (this.owed(true)) this.schedulePush();
  }

  /**
   * Time changes some answers without any new event: "last minute" and "today" tiles move on, and a
   * bucket turns final when the watermark passes it. Without this a quiet shop would show an order
   * in "last minute" for ever, and provisional bars that are long final.
   */
  private async markTimePassing(w: Watched, nowMs: number): Promise<void> {
    if (w.spec.kind === 'now') {
      if (nowMs - w.lastPushMs >= NOW_REFRESH_MS) w.dirty ??= { fromMs: 0, toMs: 0 };
      return;
    }
    const metric = metricNamed(w.spec.metric)!;
    const watermarkMs = await this.models.watermarkMs(await this.models.servedVersion(metric.projection)).catch(() => null);
    if (watermarkMs === null) return;
    const size = GRAIN_MS[w.spec.grain];
    const previous = w.watermarkMs;
    if (previous === null) {
      w.watermarkMs = watermarkMs;
      return;
    }
    if (Math.floor(watermarkMs / size) === Math.floor(previous / size)) return;
    w.watermarkMs = watermarkMs;
    const fromMs = Math.floor(previous / size) * size - size;
    const toMs = Math.ceil(watermarkMs / size) * size;
    w.dirty = w.dirty ? { fromMs: Math.min(w.dirty.fromMs, fromMs), toMs: Math.max(w.dirty.toMs, toMs) } : { fromMs, toMs };
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      const nowMs = Date.now();
      this.lastPushMs = nowMs;
      await Promise.all(
        [...this.watched.values()].map(async (w) => {
          if (!w.dirty || !w.sockets.size) return;
          // The overview is a dozen queries: at most once a second, whatever the push interval.
          if (w.spec.kind === 'now' && nowMs - w.lastPushMs < Math.max(1000, this.config.pushIntervalMs)) return;
          const dirty = w.dirty;
          w.dirty = null;
          w.lastPushMs = nowMs;
          try {
            const payload =
              w.spec.kind === 'now'
                ? await queryNow(this.models, { nowMs, currency: w.spec.currency, timeZone: this.config.shop.timeZone })
                : await this.seriesNow(w.spec, dirty);
            if (w.spec.kind === 'series' && (payload as SeriesResult).series.every((s) => !s.points.length)) return;
            const event = w.spec.kind === 'now' ? 'now' : 'update';
            for (const [socketId, id] of w.sockets) this.server.sockets.get(socketId)?.emit(event, { id, ...payload });
          } catch (e) {
            // Not lost: the range is marked again and the next interval retries it.
            const since = w.dirty as Watched['dirty'];
            w.dirty = since ? { fromMs: Math.min(since.fromMs, dirty.fromMs), toMs: Math.max(since.toMs, dirty.toMs) } : dirty;
            this.log.warn(`push failed: ${(e as Error).message}`);
          }
        }),
      );
    } finally {
      this.flushing = false;
    }
    // Marked while this push ran: the next one is due an interval after it.
    if (this.owed(false)) this.schedulePush();
  }
}
