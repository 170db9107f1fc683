import { AckPolicy, DeliverPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Logger } from '@nestjs/common';
import type pg from 'pg';
import { BoundedPull, DeliveryGap } from './bounded-pull.js';
import type { ChangeNotifier } from './change-notifier.js';
import { Identities, liveIdentityStore, type IdentitySwitches } from './identities.js';
import { KnownSessions } from './known-sessions.js';
import { commitBatch, FencedOut, flushRollups, type CommitResult, type Fence, type PipelineContext } from './commit-batch.js';
import type { ProjectorConfig } from './config.js';
import { storedMessage, type StoredMessage } from './decode.js';
import { DeferredRollups } from './deferred-rollups.js';
import { paceWaitMs } from './pacing.js';
import { RollupRefresher } from './rollups.js';

/** A delivered message not yet in a batch: kept for its ack, and as the projector reads it. */
interface Queued {
  msg: JsMsg;
  stored: StoredMessage;
  /** When the reader queued it (this process's clock). */
  queuedMs: number;
}

export interface WorkerDeps {
  pool: pg.Pool;
  js: JetStreamClient;
  jsm: JetStreamManager;
  config: ProjectorConfig;
  notifier: ChangeNotifier;
  log: Logger;
  timescale: boolean;
  /** From migrations 0006 and 0007: where identities are kept, by event time. */
  identitySwitches: IdentitySwitches;
  /** Identifies this process in checkpoint rows (fencing) and logs. */
  instance: string;
  onCommitted?: (result: CommitResult, partition: number) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class ConnectionLost extends Error {
  constructor(durable: string, cause: Error) {
    super(`${durable}: database connection lost (${cause.message}); resuming from the stored checkpoint`, { cause });
  }
}

/**
 * Owns one partition of the live pipeline: holds its advisory lock (one owner across all projector
 * processes), reads its durable consumer, and turns each batch of messages into one transaction, acking
 * only after the commit. A database outage rolls back, backs off and retries the same batch; a crash
 * leaves the batch unacked for JetStream to redeliver, and the checkpoint makes the redelivery harmless.
 */
export class PartitionWorker {
  private stopping = false;
  private client?: pg.PoolClient;
  private messages?: BoundedPull;
  private fence?: Fence;
  private readonly queue: Queued[] = [];
  private queuedBytes = 0;
  private queuedEvents = 0;
  /** When the last batch started, and how long it took. */
  private lastBatch = { at: 0, ms: 0 };
  private wake?: () => void;
  /** Set while a batch is paced: a full batch queued ends the wait. */
  private full?: () => void;
  private drained?: () => void;
  private loop?: Promise<void>;
  private readonly rollups = new RollupRefresher(60_000);
  /** Roll-ups held back while busy (plain PostgreSQL), and the last message of the batches that did so, acked once they are written. */
  private readonly heldRollups?: DeferredRollups;
  private unacked?: JsMsg;
  /** Whether messages queued up while the last batch committed: the next one is not the last for a while. */
  private busy = false;
  private readonly sessions = new KnownSessions();
  private readonly identities: Identities;
  readonly stats = { batches: 0, events: 0, duplicates: 0, deadLetters: 0, lastError: null as string | null, owned: false };

  constructor(
    private readonly deps: WorkerDeps,
    readonly pipeline: string,
    readonly partition: number,
  ) {
    this.identities = new Identities(liveIdentityStore(deps.identitySwitches));
    if (!deps.timescale && deps.config.rollupDelayMs > 0) this.heldRollups = new DeferredRollups(deps.config.rollupDelayMs);
  }

  get durable(): string {
    return `${this.deps.config.consumerPrefix}${this.pipeline}-p${this.partition}`;
  }

  start(): void {
    this.loop = this.run().catch((e) => this.deps.log.error(`${this.durable} stopped: ${(e as Error).stack}`));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.full?.();
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    // Written now, the next owner has no hours to recompute (the loop has stopped, so nothing races this).
    if (this.client && this.owesRollups() && !this.heldRollups!.recovering) await this.writeHeldRollups().catch(() => undefined);
    this.releaseClient(false);
  }

  private async run(): Promise<void> {
    const { preferredPartitions, takeoverGraceMs } = this.deps.config;
    // Let the process that prefers this partition take it first; compete only if nobody does.
    if (preferredPartitions.length && !preferredPartitions.includes(this.partition)) await sleep(takeoverGraceMs);
    while (!this.stopping) {
      if ((await this.acquire()) !== 'owned') {
        await sleep(2000);
        continue;
      }
      try {
        await this.consume();
      } catch (e) {
        if (e instanceof FencedOut || e instanceof ConnectionLost || e instanceof DeliveryGap) this.deps.log.warn(e.message);
        else this.deps.log.error(`${this.durable}: ${(e as Error).message}`);
        await this.messages?.close().catch(() => undefined);
        this.queue.length = 0;
        this.queuedBytes = 0;
        this.queuedEvents = 0;
        this.drained?.();
        this.releaseClient(true);
        await sleep(1000);
      }
    }
  }

  /** Takes the partition's advisory lock on a dedicated connection and bumps the fencing epoch. */
  private async acquire(): Promise<'owned' | 'taken' | 'unavailable'> {
    try {
      if (!this.client) {
        this.client = await this.deps.pool.connect();
        // A checked-out client whose connection drops emits 'error'; the failing query reports it too,
        // and the retry loop handles that. Without a listener the process would crash.
        this.client.on('error', (e) => this.deps.log.warn(`${this.durable}: database connection lost (${e.message})`));
      }
      const { rows } = await this.client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext('pulse:' || $1), $2) AS ok`, [this.pipeline, this.partition]);
      if (!rows[0].ok) {
        this.stats.owned = false;
        return 'taken';
      }
      const epoch = await this.client.query<{ epoch: string }>(
        `UPDATE pulse.checkpoints SET owner = $3, epoch = epoch + 1 WHERE pipeline = $1 AND partition = $2 RETURNING epoch`,
        [this.pipeline, this.partition, this.deps.instance],
      );
      this.fence = { owner: this.deps.instance, epoch: Number(epoch.rows[0].epoch) };
      this.stats.owned = true;
      return 'owned';
    } catch (e) {
      this.deps.log.warn(`${this.durable}: cannot take ownership yet (${(e as Error).message})`);
      this.releaseClient(true);
      return 'unavailable';
    }
  }

  private releaseClient(broken: boolean): void {
    this.client?.release(broken);
    this.client = undefined;
    this.stats.owned = false;
  }

  private async consume(): Promise<void> {
    const { config, jsm, js } = this.deps;
    const stream = config.names.eventsStream;
    // The checkpoint, not the consumer, is the truth of what is applied. A worker taking the partition
    // over re-creates the consumer at checkpoint + 1: delivery then starts in stream order exactly where
    // the last commit ended. (Resuming the old consumer would deliver new messages before the dead owner's
    // unacked ones came back after ack_wait, and lateness depends on order.)
    // A new consumer starts after the checkpoint, and what this worker held may or may not be stored.
    this.heldRollups?.forget();
    this.unacked = undefined;
    this.busy = false;
    const checkpoint = await this.client!.query<{ stream_seq: string }>(`SELECT stream_seq FROM pulse.checkpoints WHERE pipeline = $1 AND partition = $2`, [this.pipeline, this.partition]);
    await jsm.consumers.delete(stream, this.durable).catch(() => undefined);
    await jsm.consumers.add(stream, {
      durable_name: this.durable,
      filter_subject: config.names.partitionFilter(this.partition),
      // One ack per committed batch: the last message acks every earlier one of this partition's consumer.
      ack_policy: AckPolicy.All,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Number(checkpoint.rows[0].stream_seq) + 1,
      ack_wait: nanos(config.ackWaitMs),
      // Unacked messages: the read-ahead in bytes (BoundedPull) plus the batch being committed stay under this.
      max_ack_pending: config.readAheadMessages,
      max_deliver: -1,
    });
    const consumer = await js.consumers.get(stream, this.durable);
    this.messages = new BoundedPull(
      consumer,
      () => config.readAheadBytes - this.queuedBytes,
      (e) => this.deps.log.warn(`${this.durable}: pulling failed (${e.message}); pulling again`),
      config.readAheadBytes / 2,
      true,
    );
    let readFailure: Error | undefined;
    const reader = (async () => {
      try {
        for await (const m of this.messages!.messages()) {
          const stored = storedMessage(m);
          this.queue.push({ msg: m, stored, queuedMs: Date.now() });
          this.queuedBytes += m.data.byteLength;
          this.queuedEvents += stored.events ?? 1;
          this.wake?.();
          if (this.full && this.batchQueued()) this.full();
          // Bounded memory: stop taking messages while the read-ahead holds too many bytes.
          if (this.queuedBytes > config.readAheadBytes) await new Promise<void>((r) => (this.drained = r));
        }
      } catch (e) {
        readFailure = e as Error;
        this.wake?.();
      }
    })();
    try {
      while (!this.stopping) {
        if (readFailure) throw readFailure;
        if (!this.queue.length) {
          this.busy = false;
          if (this.owesRollups()) {
            await this.writeHeldRollups();
            continue;
          }
          // Idle: wait for messages, but look up every second, to do a roll-up refresh still owed.
          await Promise.race([new Promise<void>((r) => (this.wake = r)), sleep(1000)]);
          this.wake = undefined;
          if (!this.queue.length && this.deps.timescale) await this.refreshRollups([]);
          // Woken by the first message after a pause: let what is arriving with it join the batch.
          else if (this.queue.length && config.batchLingerMs) await sleep(config.batchLingerMs);
          continue;
        }
        await this.paceBatches();
        const at = Date.now();
        await this.process(this.takeBatch());
        this.lastBatch = { at, ms: Date.now() - at };
        this.busy = this.queue.length > 0;
      }
    } finally {
      await this.messages.close().catch(() => undefined);
      this.drained?.();
      await reader.catch(() => undefined);
    }
  }

  /** Under load, waits as `paceWaitMs` says, unless a full batch is queued. */
  private async paceBatches(): Promise<void> {
    const wait = paceWaitMs({ lastStartMs: this.lastBatch.at, lastMs: this.lastBatch.ms, dutyShare: this.deps.config.batchDutyShare, oldestQueuedMs: this.queue[0].queuedMs, nowMs: Date.now() });
    if (wait <= 0 || this.batchQueued()) return;
    await Promise.race([new Promise<void>((r) => (this.full = r)), sleep(wait)]);
    this.full = undefined;
  }

  private batchQueued(): boolean {
    return this.queue.length >= this.deps.config.maxBatchMessages || this.queuedEvents >= this.deps.config.maxBatchEvents;
  }

  private takeBatch(): Queued[] {
    const { maxBatchMessages, maxBatchEvents } = this.deps.config;
    let events = 0;
    let n = 0;
    while (n < this.queue.length && n < maxBatchMessages && events < maxBatchEvents) {
      // The header saves parsing twice; without it a message counts as one event towards the cap.
      events += this.queue[n].stored.events ?? 1;
      n++;
    }
    const batch = this.queue.splice(0, n);
    for (const { msg, stored } of batch) {
      this.queuedBytes -= msg.data.byteLength;
      this.queuedEvents -= stored.events ?? 1;
    }
    if (this.queuedBytes <= this.deps.config.readAheadBytes) {
      this.drained?.();
      this.drained = undefined;
    }
    return batch;
  }

  private async process(batch: Queued[]): Promise<void> {
    const stored = batch.map((b) => b.stored);
    const held = this.heldRollups;
    const ctx: PipelineContext = {
      pipeline: this.pipeline,
      identities: this.identities,
      names: this.deps.config.names,
      js: this.deps.js,
      limits: { maxFutureSkewMs: this.deps.config.maxFutureSkewMs, horizonMs: this.deps.config.dedupHorizonDays * 86_400_000 },
      marks: this.deps.config.validationMarks,
      timescale: this.deps.timescale,
      fences: new Map([[this.partition, this.fence!]]),
      decisions: 'decide',
      sessions: this.sessions,
    };
    for (let attempt = 0; ; attempt++) {
      try {
        // Decided per attempt: a failed attempt leaves the held roll-ups unknown, and the retry writes.
        const defer = !!held && this.busy && held.mayDefer(Date.now());
        if (held) ctx.rollups = { held, defer };
        const result = await commitBatch(this.client!, ctx, stored, new Date());
        // AckAll: the highest sequence acks the batch (a redelivered copy may come last, with a lower one),
        // and every batch before it; a batch whose roll-ups are held is acked once they are written.
        const last = [this.unacked, ...batch.map((b) => b.msg)].reduce((a, b) => (a && a.seq > b!.seq ? a : b))!;
        if (defer) this.unacked = last;
        else {
          last.ack();
          this.unacked = undefined;
        }
        this.stats.batches++;
        this.stats.events += result.events;
        this.stats.duplicates += result.duplicates;
        this.stats.deadLetters += result.deadLetters;
        this.stats.lastError = null;
        if (result.revision !== null) for (const a of result.applied) this.deps.notifier.committed(a.projection, a.version, result.revision, a.changes);
        this.deps.onCommitted?.(result, this.partition);
        if (this.deps.timescale) await this.refreshRollups(result.applied);
        return;
      } catch (e) {
        if (e instanceof FencedOut || this.stopping) throw e;
        this.stats.lastError = (e as Error).message;
        const delay = Math.min(100 * 2 ** attempt, 5000);
        this.deps.log.warn(`${this.durable}: batch of ${batch.length} messages failed (${(e as Error).message}); retrying in ${delay} ms`);
        await sleep(delay);
        // Keep JetStream from redelivering what this worker still holds and will retry.
        for (const { msg } of batch) msg.working();
        if (!(await this.healthy())) {
          // The connection, and the advisory lock with it, is gone. Start over from the checkpoint the
          // database has: commits are asynchronous (see commit-batch.ts), so the last ones may be lost
          // with the connection, and the consumer must then deliver their messages again.
          this.releaseClient(true);
          throw new ConnectionLost(this.durable, e as Error);
        }
      }
    }
  }

  private owesRollups(): boolean {
    return !!this.heldRollups && (this.heldRollups.recovering || this.heldRollups.schemas().length > 0 || this.unacked !== undefined);
  }

  /** At the end of a burst, or after a restart: the roll-ups held or owed, then the ack held for them. */
  private async writeHeldRollups(): Promise<void> {
    const ctx = { pipeline: this.pipeline, timescale: this.deps.timescale, fences: new Map([[this.partition, this.fence!]]), rollups: { held: this.heldRollups!, defer: false } };
    try {
      const result = await flushRollups(this.client!, ctx, this.partition, new Date());
      this.unacked?.ack();
      this.unacked = undefined;
      if (result.revision !== null) for (const a of result.applied) this.deps.notifier.committed(a.projection, a.version, result.revision, a.changes);
    } catch (e) {
      if (e instanceof FencedOut || this.stopping) throw e;
      this.deps.log.warn(`${this.durable}: writing held roll-ups failed (${(e as Error).message}); recomputing them from the minutes next`);
      await sleep(1000);
      if (!(await this.healthy())) {
        this.releaseClient(true);
        throw new ConnectionLost(this.durable, e as Error);
      }
    }
  }

  private async refreshRollups(applied: CommitResult['applied']): Promise<void> {
    const urgent = this.rollups.note(applied, Date.now());
    try {
      await this.rollups.refresh(this.client!, urgent, Date.now());
    } catch (e) {
      // The commit stands; the next refresh covers this one's window too.
      this.deps.log.warn(`${this.durable}: refreshing roll-ups failed (${(e as Error).message})`);
    }
  }

  private async healthy(): Promise<boolean> {
    try {
      await this.client!.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }
}
