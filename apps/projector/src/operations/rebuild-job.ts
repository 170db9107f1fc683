import { DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '@nestjs/common';
import { decodeMessage } from '@pulse/contracts';
import { rebuildProgress, type RebuildRequest, type StoredOperation } from '@pulse/domain';
import type pg from 'pg';
import type { Fence, PipelineContext } from '../commit-batch.js';
import { createIdentityStore, dropIdentityStore, Identities, ownIdentityStore, type IdentityStore } from '../identities.js';
import { KnownSessions } from '../known-sessions.js';
import type { ProjectorConfig } from '../config.js';
import type { FoldThreads } from '../fold-threads.js';
import { Lane, type LaneSpec } from './rebuild-lanes.js';
import { schemaOf } from '../read-models.js';
import { copyBeforeCutoff } from './copy-before-cutoff.js';

export interface OperationRow extends StoredOperation {
  id: string;
  kind: 'rebuild' | 'replay';
  status: 'requested' | 'running' | 'cancelling' | 'completed' | 'cancelled' | 'failed';
  options: RebuildRequest & Record<string, unknown>;
  start_seq: string | null;
}

export interface JobDeps {
  pool: pg.Pool;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  config: ProjectorConfig;
  log: Logger;
  timescale: boolean;
  instance: string;
  /** Live partitions' pending messages, to yield to live traffic. */
  livePending: () => Promise<number>;
  /** Where rebuild batches are folded, when not on the event loop. */
  foldThreads?: FoldThreads;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// A rebuild scans from this long before its cutoff: any event dated after the cutoff was stored after
// cutoff - max future skew, so the scan sees all of them.
const LOOKBACK_MS = 15 * 60_000;
// Connections a rebuild writes on besides its own (see project()); the pool must hold the live partitions' and these.
// Lanes on threads of their own were tried: on two cores they took 65% more CPU per event (each thread
// compiles the folds anew and parses its own NATS traffic) and rebuilt slower.
const REBUILD_LANES = 2;

export class Cancelled extends Error {}

/** Lost or refused database connections (including an administrator's shutdown): worth resuming after. */
function connectionProblem(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  const message = (e as Error).message ?? '';
  return code.startsWith('57P') || code.startsWith('08') || code === 'ECONNREFUSED' || code === 'ECONNRESET' || /Connection terminated|not queryable/.test(message);
}

/**
 * Builds a new version of one projection beside the served one, from the event store, and swaps it in
 * when it has caught up with the live pipeline. Its progress lives in its own checkpoints (pipeline
 * `rebuild-<id>`), so a projector that dies mid-rebuild is followed by one that resumes it.
 */
export class RebuildJob {
  private readonly pipeline: string;
  /** Identities of a rebuild that decides again (`reverify`), kept apart from the live pipeline's. */
  private readonly identityStore: IdentityStore;
  private lastProgressAt = 0;
  private rate = { at: Date.now(), events: 0, eps: 0 };

  constructor(
    private readonly deps: JobDeps,
    private op: OperationRow,
    private readonly client: pg.PoolClient,
  ) {
    this.pipeline = `rebuild-${op.id}`;
    this.identityStore = ownIdentityStore(`identity_rebuild_${op.id}`);
  }

  async run(): Promise<void> {
    try {
      if (this.op.status === 'requested') await this.prepare();
      if (this.op.status === 'cancelling') throw new Cancelled();
      await this.project();
    } catch (e) {
      if (e instanceof Cancelled) await this.abandon('cancelled', null);
      else if (connectionProblem(e)) {
        // Not the rebuild's fault: the operation stays running and is resumed from its checkpoints.
        this.deps.log.warn(`rebuild ${this.op.id} paused: ${(e as Error).message}`);
      } else {
        this.deps.log.error(`rebuild ${this.op.id} failed: ${(e as Error).stack}`);
        await this.abandon('failed', (e as Error).message).catch(() => undefined);
      }
    }
  }

  private get projection(): string {
    return this.op.projection!;
  }

  private async prepare(): Promise<void> {
    const { client } = this;
    const { config } = this.deps;
    const request = this.op.options;
    const { cutoff, startSeq } = await this.scanPlan(request);
    await client.query('BEGIN');
    try {
      const served = (await client.query<{ version: number; allowed_lateness_ms: string }>(`SELECT version, allowed_lateness_ms FROM pulse.projection_versions WHERE projection = $1 AND status = 'live'`, [this.projection])).rows[0];
      const version = (await client.query<{ v: number }>(`SELECT coalesce(max(version), 0) + 1 AS v FROM pulse.projection_versions WHERE projection = $1`, [this.projection])).rows[0].v;
      await client.query('SELECT pulse.create_read_model($1, $2)', [this.projection, version]);
      await client.query(`INSERT INTO pulse.projection_versions (projection, version, status, allowed_lateness_ms, cutoff) VALUES ($1, $2, 'building', $3, $4)`, [
        this.projection,
        version,
        served ? Number(served.allowed_lateness_ms) : config.allowedLatenessMs,
        cutoff,
      ]);
      if (cutoff && served) await copyBeforeCutoff(client, schemaOf(this.projection, served.version), schemaOf(this.projection, version), cutoff, this.deps.timescale, this.projection);
      await createIdentityStore(client, this.identityStore);
      await client.query(
        `INSERT INTO pulse.checkpoints (pipeline, partition, stream_seq) SELECT $1, p, $2 FROM generate_series(0, $3 - 1) AS p`,
        [this.pipeline, startSeq - 1, config.names.partitions],
      );
      await client.query(
        `INSERT INTO pulse.feeds (pipeline, projection, version, partition, after_seq) SELECT $1, $2, $3, p, 0 FROM generate_series(0, $4 - 1) AS p`,
        [this.pipeline, this.projection, version, config.names.partitions],
      );
      const updated = await client.query<OperationRow>(
        `UPDATE pulse.operations SET status = 'running', version = $2, start_seq = $3, started_at = now() WHERE id = $1 AND status = 'requested' RETURNING *`,
        [this.op.id, version, startSeq],
      );
      if (!updated.rows.length) throw new Cancelled();
      await client.query('COMMIT');
      this.op = updated.rows[0];
      this.deps.log.log(`rebuild ${this.op.id}: building ${this.projection} v${version} from stream sequence ${startSeq}${cutoff ? `, keeping buckets before ${cutoff.toISOString()}` : ''}`);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }

  /** Where the scan of the event store starts, and the cutoff a partial rebuild keeps buckets before. */
  private async scanPlan(request: RebuildRequest): Promise<{ cutoff: Date | null; startSeq: number }> {
    const stream = this.deps.config.names.eventsStream;
    const info = await this.deps.jsm.streams.info(stream);
    const first = Math.max(1, info.state.first_seq);
    if (request.mode === 'full') return { cutoff: null, startSeq: first };
    let cutoffMs: number;
    if (request.mode === 'from-time') cutoffMs = Date.parse(String(request.from));
    else {
      const seq = Math.max(first, Number(request.from));
      const message = await this.firstMessageFrom({ seq });
      const parsed = message ? decodeMessage(message.data) : undefined;
      const times = (Array.isArray(parsed) ? parsed : [parsed]).map((e) => Date.parse((e as { time?: string } | undefined)?.time ?? '')).filter((t) => !Number.isNaN(t));
      if (!times.length) throw new Error(`stream sequence ${seq} holds no event with a time`);
      cutoffMs = Math.floor(Math.min(...times) / 60_000) * 60_000;
    }
    const startMessage = await this.firstMessageFrom({ time: new Date(cutoffMs - LOOKBACK_MS) });
    const startSeq = startMessage ? startMessage.seq : info.state.last_seq + 1;
    return { cutoff: new Date(cutoffMs), startSeq: request.mode === 'from-sequence' ? Math.min(startSeq, Math.max(first, Number(request.from))) : startSeq };
  }

  private async firstMessageFrom(at: { seq?: number; time?: Date }): Promise<JsMsg | undefined> {
    const consumer = await this.deps.js.consumers.get(this.deps.config.names.eventsStream, {
      filter_subjects: this.deps.config.names.allEvents(),
      ...(at.seq ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: at.seq } : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: at.time!.toISOString() }),
    });
    const m = await consumer.next({ expires: 2000 });
    await consumer.delete().catch(() => undefined);
    return m ?? undefined;
  }

  private async fences(): Promise<Map<number, Fence>> {
    const { rows } = await this.client.query<{ partition: number; epoch: string }>(
      `UPDATE pulse.checkpoints SET owner = $2, epoch = epoch + 1 WHERE pipeline = $1 RETURNING partition, epoch`,
      [this.pipeline, this.deps.instance],
    );
    return new Map(rows.map((r) => [r.partition, { owner: this.deps.instance, epoch: Number(r.epoch) }]));
  }

  private async project(): Promise<void> {
    const { config, js } = this.deps;
    const reverify = this.op.options.reverify === true;
    const ctx: PipelineContext = {
      pipeline: this.pipeline,
      identities: new Identities(this.identityStore),
      names: config.names,
      js,
      limits: { maxFutureSkewMs: config.maxFutureSkewMs, horizonMs: config.dedupHorizonDays * 86_400_000 },
      // No validation marks: an admin asking to `reverify` gets every event validated again.
      timescale: this.deps.timescale,
      fences: await this.fences(),
      // Normally the rebuild follows the live pipeline's recorded decisions (duplicates, dead letters) and
      // so never reads past what live has committed; `reverify` decides everything again instead.
      decisions: reverify ? 'decide-quietly' : 'recorded',
      foldRecorded: this.deps.foldThreads && ((input) => this.deps.foldThreads!.fold(input)),
      sessions: new KnownSessions(),
    };
    const partitions = Array.from({ length: config.names.partitions }, (_, p) => p);
    const { rows } = await this.client.query<{ partition: number; stream_seq: string }>(`SELECT partition, stream_seq FROM pulse.checkpoints WHERE pipeline = $1`, [this.pipeline]);
    const position = new Map(rows.map((r) => [r.partition, Number(r.stream_seq)]));
    const maxEps = this.op.options.maxEventsPerSecond;
    const batchSize = maxEps ? Math.max(1, Math.min(config.maxBatchMessages, Math.ceil(maxEps / 50))) : config.maxBatchMessages;
    const liveCheckpoints = async (client: pg.ClientBase, lock = false) =>
      new Map((await client.query<{ partition: number; stream_seq: string }>(`SELECT partition, stream_seq FROM pulse.checkpoints WHERE pipeline = 'live' ORDER BY partition${lock ? ' FOR UPDATE' : ''}`)).rows.map((r) => [r.partition, Number(r.stream_seq)]));

    // Lanes, each with a connection of its own and a share of the partitions: while one lane's batch is
    // written, the other's is decoded and folded (a rebuild is bound by this thread; alone, it would wait
    // for every write).
    const lanes: Lane[] = [];
    const laneOf = new Map<number, Lane>();
    const spec = (lanePartitions: number[]): LaneSpec => ({
      partitions: lanePartitions,
      positions: Object.fromEntries(lanePartitions.map((p) => [p, position.get(p)!])),
      stream: config.names.eventsStream,
      filters: Object.fromEntries(lanePartitions.map((p) => [p, config.names.partitionFilter(p)])),
      readAheadBytes: config.readAheadBytes,
      batchSize,
      batchEvents: config.rebuildBatchEvents,
    });
    const openLane = async (lanePartitions: number[]): Promise<Lane> => {
      const client = await this.deps.pool.connect();
      // Lanes commit at the same time: each remembers the identities of its own batches.
      const laneCtx = { ...ctx, identities: new Identities(this.identityStore) };
      return Lane.open(spec(lanePartitions), js, client, laneCtx, (broken) => client.release(broken)).catch((e) => {
        client.release(true);
        throw e;
      });
    };

    /** Projects partition p's next messages up to `bound`; the number of events applied. */
    const advance = async (p: number, bound: number): Promise<number> => {
      const step = await laneOf.get(p)!.advance(p, bound);
      if (step.lastSeq === undefined) return 0;
      position.set(p, step.lastSeq);
      await this.reportProgress(Math.min(...position.values()), step.events, step.lastStoredMs!);
      return step.events;
    };

    try {
      const count = Math.min(REBUILD_LANES, partitions.length);
      for (let i = 0; i < count; i++) {
        const lane = await openLane(partitions.filter((p) => p % count === i));
        lanes.push(lane);
        for (const p of lane.partitions) laneOf.set(p, lane);
      }
      // Each lane advances on its own up to the live pipeline's position; this loop only steers: it
      // refreshes that position, watches for a cancel and for live falling behind, and hands off once
      // every partition has caught up.
      let live = await liveCheckpoints(this.client);
      let yielding = false;
      let running: { stop: boolean; loops: Promise<void> } | undefined;
      const laneLoop = async (lane: Lane, state: { stop: boolean }) => {
        // An explicit cap is shared evenly by the lanes.
        const laneEps = maxEps ? maxEps / lanes.length : 0;
        while (!state.stop) {
          const started = Date.now();
          let events = 0;
          for (const p of lane.partitions) events += await advance(p, reverify ? Infinity : live.get(p) ?? 0);
          if (!events) await lane.waitForMessages(lane.partitions, 100);
          else if (laneEps) for (let left = (events / laneEps) * 1000 - (Date.now() - started); left > 0 && !state.stop; left -= 100) await sleep(Math.min(100, left));
          // Always giving way when the live pipeline falls behind.
          if (events && yielding) await sleep(50);
        }
      };
      const startLanes = () => {
        const state = { stop: false, loops: Promise.resolve() };
        // A failing lane stops the others after their current step; the loops settle before its error is thrown.
        const loops = lanes.map((lane) =>
          laneLoop(lane, state).catch((e) => {
            state.stop = true;
            throw e;
          }),
        );
        state.loops = Promise.allSettled(loops).then((results) => {
          const failed = results.find((r) => r.status === 'rejected');
          if (failed) throw failed.reason;
        });
        state.loops.catch(() => undefined); // awaited by the steering loop; this only keeps it from counting as unhandled
        running = state;
      };
      const stopLanes = async () => {
        if (!running) return;
        running.stop = true;
        const { loops } = running;
        running = undefined;
        await loops;
      };
      try {
        startLanes();
        for (;;) {
          // A lane's failure surfaces here.
          await Promise.race([sleep(100), running!.loops]);
          await this.checkCancelled();
          // Caught up with the position the lanes were given (live has moved on since): the hand-off
          // holds live back and projects the rest.
          if (partitions.every((p) => position.get(p)! >= (live.get(p) ?? 0))) {
            await stopLanes();
            if (await this.handOff(laneOf, position, advance, liveCheckpoints)) return;
            startLanes();
          }
          live = await liveCheckpoints(this.client);
          yielding = (await this.deps.livePending()) > config.readAheadMessages;
        }
      } finally {
        await stopLanes().catch(() => undefined);
      }
    } finally {
      await Promise.all(lanes.map((lane) => lane.close()));
    }
  }

  private async checkCancelled(): Promise<void> {
    const { rows } = await this.client.query<{ status: string }>(`SELECT status FROM pulse.operations WHERE id = $1`, [this.op.id]);
    if (rows[0]?.status === 'cancelling') throw new Cancelled();
  }

  private async reportProgress(position: number, events: number, storedMs: number, force = false): Promise<void> {
    const now = Date.now();
    this.rate.events += events;
    if (!force && now - this.lastProgressAt < 1000) return;
    if (now - this.rate.at >= 1000) this.rate = { at: now, events: 0, eps: (this.rate.events * 1000) / (now - this.rate.at) };
    this.lastProgressAt = now;
    const [{ rows }, info] = await Promise.all([
      this.client.query<{ events: string; messages: string; duplicates: string; dead_letters: string }>(
        `SELECT sum(events) AS events, sum(messages) AS messages, sum(duplicates) AS duplicates, sum(dead_letters) AS dead_letters FROM pulse.checkpoints WHERE pipeline = $1`,
        [this.pipeline],
      ),
      this.deps.jsm.streams.info(this.deps.config.names.eventsStream),
    ]);
    const processed = Number(rows[0].events);
    const messages = Number(rows[0].messages);
    const perMessage = messages ? (processed + Number(rows[0].duplicates) + Number(rows[0].dead_letters)) / messages : 1;
    const progress = {
      ...rebuildProgress({ processedEvents: processed, position, head: info.state.last_seq, eventsPerMessage: perMessage, eventsPerSecond: this.rate.eps, storedLagMs: now - storedMs }),
      position,
      head: info.state.last_seq,
      version: this.op.version,
      at: new Date(now).toISOString(),
    };
    await this.client.query(`UPDATE pulse.operations SET progress = $2 WHERE id = $1`, [this.op.id, progress]);
    this.publish({ status: 'running', ...progress });
  }

  private publish(body: Record<string, unknown>): void {
    const message = { id: Number(this.op.id), kind: 'rebuild', projection: this.projection, ...body };
    this.deps.nc.publish(this.deps.config.names.operationSubject('rebuild', this.op.id), JSON.stringify(message));
  }

  /**
   * The swap, in one transaction: the live pipeline takes over feeding the new version after the
   * rebuild's position, the new version is served and the old one retired (kept, still fed, for
   * rollback until it is dropped). The transaction first locks the live checkpoints, which holds live
   * commits back; the rebuild then projects whatever live had committed beyond its position, so at the
   * swap the new version has everything live has, and live feeds it everything after.
   */
  private async handOff(
    laneOf: ReadonlyMap<number, Lane>,
    position: Map<number, number>,
    advance: (p: number, bound: number) => Promise<number>,
    liveCheckpoints: (client: pg.ClientBase, lock?: boolean) => Promise<Map<number, number>>,
  ): Promise<boolean> {
    const { config } = this.deps;
    const lock = await this.deps.pool.connect();
    lock.on('error', () => undefined);
    await lock.query('BEGIN');
    try {
      const live = await liveCheckpoints(lock, true);
      // Live is held: project what it committed beyond the rebuild, partition by partition.
      for (const [p, liveAt] of live) {
        for (let idle = 0; position.get(p)! < liveAt; ) {
          if (!(await advance(p, liveAt))) {
            if (++idle > 20) {
              await lock.query('ROLLBACK');
              return false;
            }
            await laneOf.get(p)!.waitForMessages([p], 100);
          }
        }
      }
      const status = (await lock.query<{ status: string }>(`SELECT status FROM pulse.operations WHERE id = $1 FOR UPDATE`, [this.op.id])).rows[0].status;
      if (status === 'cancelling') throw new Cancelled();
      const version = this.op.version!;
      // From here the live pipeline feeds the new version, each partition after where the rebuild got.
      const after = [...position.entries()];
      await lock.query(
        `INSERT INTO pulse.feeds (pipeline, projection, version, partition, after_seq) SELECT 'live', $1, $2, p, s FROM unnest($3::int[], $4::bigint[]) AS u(p, s)`,
        [this.projection, version, after.map(([p]) => p), after.map(([, s]) => s)],
      );
      const swappedAt = Math.max(...position.values());
      await lock.query(`DELETE FROM pulse.feeds WHERE pipeline = $1`, [this.pipeline]);
      await lock.query(
        `UPDATE pulse.projection_versions SET status = 'retired', retired_at = now(), drop_after = now() + make_interval(secs => $2) WHERE projection = $1 AND status = 'live'`,
        [this.projection, config.retiredKeepSeconds],
      );
      await lock.query(`UPDATE pulse.projection_versions SET status = 'live', served_since = now() WHERE projection = $1 AND version = $2`, [this.projection, version]);
      const totals = (await lock.query<{ events: string; duplicates: string; dead_letters: string }>(`SELECT sum(events) AS events, sum(duplicates) AS duplicates, sum(dead_letters) AS dead_letters FROM pulse.checkpoints WHERE pipeline = $1`, [this.pipeline])).rows[0];
      const progress = { processedEvents: Number(totals.events), duplicates: Number(totals.duplicates), deadLetters: Number(totals.dead_letters), remainingEvents: 0, etaSeconds: 0, lagEvents: 0, lagSeconds: 0, eventsPerSecond: Math.round(this.rate.eps), position: swappedAt, head: swappedAt, version, at: new Date().toISOString() };
      await lock.query(`UPDATE pulse.operations SET status = 'completed', finished_at = now(), progress = $2 WHERE id = $1`, [this.op.id, progress]);
      await lock.query(`DELETE FROM pulse.checkpoints WHERE pipeline = $1`, [this.pipeline]);
      await dropIdentityStore(lock, this.identityStore);
      await lock.query('COMMIT');
      this.publish({ status: 'completed', ...progress });
      this.deps.log.log(`rebuild ${this.op.id}: ${this.projection} v${version} is served (swapped at stream sequence ${swappedAt})`);
      return true;
    } catch (e) {
      await lock.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      lock.release();
    }
  }

  /** Cancelled or failed: the half-built version goes, the audit record stays. */
  private async abandon(status: 'cancelled' | 'failed', error: string | null): Promise<void> {
    const { client } = this;
    await client.query('BEGIN');
    try {
      await client.query(`DELETE FROM pulse.feeds WHERE pipeline = $1`, [this.pipeline]);
      await client.query(`DELETE FROM pulse.checkpoints WHERE pipeline = $1`, [this.pipeline]);
      await dropIdentityStore(client, this.identityStore);
      if (this.op.version) {
        await client.query(`DROP SCHEMA IF EXISTS "${schemaOf(this.projection, this.op.version)}" CASCADE`);
        await client.query(`UPDATE pulse.projection_versions SET status = $3 WHERE projection = $1 AND version = $2 AND status = 'building'`, [this.projection, this.op.version, status === 'cancelled' ? 'cancelled' : 'failed']);
      }
      await client.query(`UPDATE pulse.operations SET status = $2, error = $3, finished_at = now() WHERE id = $1`, [this.op.id, status, error]);
      await client.query('COMMIT');
      this.publish({ status, error });
      this.deps.log.log(`rebuild ${this.op.id}: ${status}${error ? ` (${error})` : ''}`);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    }
  }
}
