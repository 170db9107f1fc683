import type { Consumer, ConsumerMessages, JsMsg } from '@nats-io/jetstream';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The most messages one pull asks for; small enough that a pull of the largest messages seen stays modest. */
const MAX_PULL_MESSAGES = 1000;
/** How often a caller without room for a pull is looked at again. */
const SPACE_POLL_MS = 5;
/**
 * A pull waits this long for messages when the partition is quiet, then the next pull is made. Under
 * load a pull ends when it has its count, long before this. Why long: nats-server 2.9 now and then
 * leaves a pull that expires while messages flow without its closing status, and the pull then waits
 * for two missed heartbeats (measured with 5,000 and 1,000 ms: 3 of 37 pulls that ran into their
 * expiry at 200 messages/s hung for a further second; the benchmark saw partitions stall 1 to 5 s at
 * a time, p99 at 1M/min 0.9 to 4.5 s). A pull that ends by its count never meets that.
 */
const PULL_EXPIRES_MS = 30_000;
/** The server's heartbeat on a waiting pull; two missed give the pull up (a server restart, a lost request). */
const PULL_HEARTBEAT_MS = 1000;

/**
 * A durable consumer delivered a message this reader never received: a fetch given up after missed
 * heartbeats while the server still delivered to it. Acking on (AckAll) would ack the lost message too,
 * so the caller must start again from its checkpoint.
 */
export class DeliveryGap extends Error {
  constructor(last: number, next: number) {
    super(`delivery ${next} followed ${last}: messages between were delivered to a pull given up; starting again from the checkpoint`);
    this.name = 'DeliveryGap';
  }
}

/**
 * Pulls a consumer's messages in bounded requests, asking each time only for as many messages as fit in
 * the bytes the caller has free, judged by the largest message seen so far.
 *
 * Why not `consume({ max_bytes })`: with nats-server 2.9, a pull request whose remaining bytes are less
 * than the next message ends with "409 message size exceeds maxbytes", and nats.js then waits for two
 * missed heartbeats (about 30 s) before pulling again: with batch messages of very different sizes that
 * happens every few seconds and a partition stalls (measured: 885 of 14,840 messages delivered in 40 s).
 * And not `consume({ max_messages })`: nats.js re-pulls as messages arrive, whether or not the caller
 * takes them, so its buffer is bounded only by the consumer's max_ack_pending (unbounded for an ordered
 * consumer). A fetch is only made when the caller has taken what the previous one brought.
 */
export class BoundedPull {
  private current?: ConsumerMessages;
  private closed = false;
  private largest = 16 * 1024;
  /** The consumer's delivery sequence of the last message received. */
  private delivered = 0;

  constructor(
    private readonly consumer: Consumer,
    /** Bytes the caller can still take before its read-ahead is full. */
    private readonly freeBytes: () => number,
    private readonly onError: (e: Error) => void = () => undefined,
    /**
     * The next pull waits until this much is free, so that a nearly full caller makes a few large pulls
     * rather than many of one message each (measured: a rebuild's readers made 2,045 pulls for 58k
     * messages, a third of them for 1 to 3; writing pull requests took 6% of the rebuild's CPU).
     */
    private readonly minFreeBytes = 0,
    /** A durable consumer's deliveries are checked for gaps (an ordered consumer restarts its own sequence, and re-reads by itself). */
    private readonly durable = false,
  ) {}

  async *messages(): AsyncGenerator<JsMsg> {
    let failures = 0;
    while (!this.closed) {
      const free = this.freeBytes();
      if (free < this.minFreeBytes) {
        await sleep(SPACE_POLL_MS);
        continue;
      }
      const count = Math.max(1, Math.min(MAX_PULL_MESSAGES, Math.floor(free / this.largest)));
      try {
        const fetched = await this.consumer.fetch({ max_messages: count, expires: PULL_EXPIRES_MS, idle_heartbeat: PULL_HEARTBEAT_MS });
        this.current = fetched;
        // A close() that came while this pull was being made could not stop it: it would run to its expiry (30 s).
        if (this.closed) void fetched.close()?.catch(() => undefined);
        // The fetch is drained as it delivers, whatever the caller is doing meanwhile: a nats.js fetch
        // that fails (missed heartbeats) drops the messages it received but has not handed out, and the
        // next fetch starts after them; for a durable AckAll consumer the next ack would then cover
        // them too. The fetch asked only for what fits, so holding them here stays within the bound.
        const received: JsMsg[] = [];
        let failure: unknown;
        let done = false;
        let arrived: (() => void) | undefined;
        const drain = (async () => {
          try {
            for await (const m of fetched) {
              received.push(m);
              arrived?.();
            }
          } catch (e) {
            failure = e;
          } finally {
            done = true;
            arrived?.();
          }
        })();
        for (let next = 0; ; ) {
          while (next < received.length) {
            const m = received[next++];
            if (this.durable) {
              const d = m.info.deliverySequence;
              if (this.delivered && d !== this.delivered + 1) throw new DeliveryGap(this.delivered, d);
              this.delivered = d;
            }
            if (m.data.byteLength > this.largest) this.largest = m.data.byteLength;
            yield m;
          }
          if (done) break;
          await new Promise<void>((r) => (arrived = r));
          arrived = undefined;
        }
        await drain;
        if (failure) throw failure;
        failures = 0;
      } catch (e) {
        if (this.closed) return;
        if (e instanceof DeliveryGap) throw e;
        // A server restart or a leader change: pull again after a pause, as consume() would.
        this.onError(e as Error);
        await sleep(Math.min(200 * 2 ** failures++, 5000));
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current?.close()?.catch(() => undefined);
  }
}
