import { DeliverPolicy, type Consumer, type JetStreamClient } from '@nats-io/jetstream';
import { BoundedPull } from '../bounded-pull.js';
import { storedMessage, type StoredMessage } from '../decode.js';

/**
 * Reads one partition of the event store in sequence order (an ordered consumer: no acks, the caller's
 * checkpoint is the truth) into a buffer bounded in bytes, from which the caller takes messages up to a
 * sequence of its choosing.
 */
export class PartitionReader {
  private readonly buffer: StoredMessage[] = [];
  private bytes = 0;
  private resume?: () => void;
  private arrived?: () => void;
  private readonly pump: Promise<void>;
  private readonly pull: BoundedPull;

  private constructor(
    consumer: Consumer,
    private readonly maxBytes: number,
  ) {
    // Pulls wait for half the read-ahead to be free, so a reader that is nearly full makes few large pulls.
    const pull = new BoundedPull(consumer, () => this.maxBytes - this.bytes, undefined, this.maxBytes / 2);
    this.pull = pull;
    this.pump = (async () => {
      for await (const m of pull.messages()) {
        this.buffer.push(storedMessage(m));
        this.bytes += m.data.byteLength;
        this.arrived?.();
        if (this.bytes > this.maxBytes) await new Promise<void>((r) => (this.resume = r));
      }
    })().catch(() => undefined);
  }

  static async open(js: JetStreamClient, stream: string, filter: string, fromSeq: number, maxBytes: number): Promise<PartitionReader> {
    const consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: fromSeq });
    return new PartitionReader(consumer, maxBytes);
  }

  /**
   * Buffered messages in order, with a sequence at most `bound`: up to `max` of them, and cut at the
   * message that reaches `maxEvents` (counted from the producer's header; one per message without it).
   */
  take(bound: number, max: number, maxEvents = Infinity): StoredMessage[] {
    let n = 0;
    let events = 0;
    while (n < this.buffer.length && n < max && events < maxEvents && this.buffer[n].seq <= bound) events += this.buffer[n++].events ?? 1;
    const taken = this.buffer.splice(0, n);
    for (const m of taken) this.bytes -= m.data.byteLength;
    if (this.bytes <= this.maxBytes && this.resume) {
      this.resume();
      this.resume = undefined;
    }
    return taken;
  }

  /** Resolves when any of the readers receives a message, or after `timeoutMs`. */
  async waitForMessages(readers: readonly PartitionReader[], timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => (timer = setTimeout(r, timeoutMs))),
      ...readers.map((reader) => new Promise<void>((r) => (reader.arrived = r))),
    ]);
    clearTimeout(timer);
    for (const reader of readers) reader.arrived = undefined;
  }

  async close(): Promise<void> {
    await this.pull.close();
    this.resume?.();
    await this.pump;
  }
}
