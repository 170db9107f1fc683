import { validateEvent } from '@pulse/contracts';
import type { PulseProducer } from '@pulse/contracts/sdk';
import { backoffMs, sleep } from './backoff.js';
import type { Delivery, Transport } from './driver.js';
import type { Emission } from './traffic-model.js';

export interface SdkTransportOptions {
  /** Named in each dead letter's Pulse-Producer header. */
  producerName?: string;
  /** Attempts per batch before it counts as failed. */
  maxAttempts?: number;
}

/**
 * Delivers through the producer SDK straight into JetStream; the SDK validates each event and keeps
 * the invalid ones in the dead-letter stream. A failed publish is retried as a whole: the SDK derives
 * message ids from the events, so JetStream stores what had already arrived only once.
 */
export class SdkTransport implements Transport {
  private readonly producerName: string;
  private readonly maxAttempts: number;

  constructor(
    private readonly producer: PulseProducer,
    options: SdkTransportOptions = {},
  ) {
    this.producerName = options.producerName ?? 'pulse-simulator';
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  async deliver(batch: readonly Emission[]): Promise<Delivery> {
    const events = batch.map((e) => e.event);
    for (let attempt = 1; ; attempt++) {
      try {
        const report = await this.producer.publish(events, { onInvalid: 'dead-letter', producer: this.producerName });
        const malformed: number[] = [];
        batch.forEach((e, i) => e.kind === 'malformed' && malformed.push(i));
        if (report.deadLettered === malformed.length) return { rejected: malformed, retries: attempt - 1 };
        // The SDK reports how many, not which: only when the count is off is it worth validating again.
        return { rejected: events.flatMap((e, i) => (validateEvent(e).ok ? [] : [i])), retries: attempt - 1 };
      } catch (error) {
        if (attempt >= this.maxAttempts) throw new Error(`publishing ${batch.length} events failed after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
        await sleep(backoffMs(attempt));
      }
    }
  }
}
