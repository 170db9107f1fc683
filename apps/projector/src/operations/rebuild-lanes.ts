import type { JetStreamClient } from '@nats-io/jetstream';
import type pg from 'pg';
import { commitBatch, type PipelineContext } from '../commit-batch.js';
import { PartitionReader } from './partition-reader.js';

/** What one step of a partition applied: its events, and the last message it committed, if any. */
export interface Advanced {
  events: number;
  lastSeq?: number;
  lastStoredMs?: number;
}

export interface LaneSpec {
  partitions: number[];
  /** Last committed sequence per partition: each reader starts after it. */
  positions: Record<number, number>;
  stream: string;
  filters: Record<number, string>;
  readAheadBytes: number;
  batchSize: number;
  /**
   * Events per batch: decoded events live until their batch commits, and batches small enough for
   * them to die young keep garbage collection cheap.
   */
  batchEvents: number;
}

/**
 * A share of a rebuild's partitions, each read by its own ordered consumer, with a database connection
 * of its own. While one lane's batch is written, another's is decoded and folded; partitions keep their
 * rows apart, so lanes never wait for each other's rows.
 */
export class Lane {
  broken = false;

  private constructor(
    private readonly spec: LaneSpec,
    private readonly readers: Map<number, PartitionReader>,
    private readonly client: pg.ClientBase,
    private readonly ctx: PipelineContext,
    private readonly release?: (broken: boolean) => void,
  ) {}

  get partitions(): readonly number[] {
    return this.spec.partitions;
  }

  /** `release` hands the connection back when the lane closes (told whether it broke). */
  static async open(spec: LaneSpec, js: JetStreamClient, client: pg.ClientBase, ctx: PipelineContext, release?: (broken: boolean) => void): Promise<Lane> {
    const readers = new Map<number, PartitionReader>();
    for (const p of spec.partitions) readers.set(p, await PartitionReader.open(js, spec.stream, spec.filters[p], spec.positions[p] + 1, spec.readAheadBytes));
    const lane = new Lane(spec, readers, client, ctx, release);
    // A lost connection surfaces in the failing query, which pauses the rebuild for a resume; unheard, it would end the process.
    client.on('error', () => (lane.broken = true));
    return lane;
  }

  /** Projects partition p's next buffered messages with a sequence at most `bound`. */
  async advance(p: number, bound: number): Promise<Advanced> {
    const batch = this.readers.get(p)!.take(bound, this.spec.batchSize, this.spec.batchEvents);
    if (!batch.length) return { events: 0 };
    const result = await commitBatch(this.client, this.ctx, batch, new Date());
    const last = batch[batch.length - 1];
    return { events: result.events, lastSeq: last.seq, lastStoredMs: last.storedMs };
  }

  /** Resolves when one of these partitions receives a message, or after `timeoutMs`. */
  async waitForMessages(partitions: readonly number[], timeoutMs: number): Promise<void> {
    const readers = partitions.map((p) => this.readers.get(p)!);
    await readers[0].waitForMessages(readers, timeoutMs);
  }

  async close(): Promise<void> {
    await Promise.all([...this.readers.values()].map((r) => r.close()));
    this.release?.(this.broken);
  }
}
