import { identityOf, validateEvent } from '@pulse/contracts';
import { TrafficDriver, type Delivery, type Transport } from './driver.js';
import { TrafficModel, type Emission } from './traffic-model.js';

/** A receiver that answers like Pulse does (refusing what breaks the contracts), and remembers every batch. */
class RecordingTransport implements Transport {
  readonly batches: Emission[][] = [];
  maxConcurrent = 0;
  private concurrent = 0;

  constructor(private readonly failOnCall?: number) {}

  async deliver(batch: readonly Emission[]): Promise<Delivery> {
    this.concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2));
      this.batches.push([...batch]);
      if (this.batches.length === this.failOnCall) throw new Error('the receiver is gone');
      return { rejected: batch.flatMap((e, i) => (validateEvent(e.event).ok ? [] : [i])), retries: 0 };
    } finally {
      this.concurrent -= 1;
    }
  }
}

const model = (seed = 3) => new TrafficModel({ seed, startMs: Date.now(), late: 0.05, lateMinMs: 1_000, lateMaxMs: 30_000, duplicate: 0.03, malformed: 0.01, outOfOrder: 0.05 });

describe('the traffic driver', () => {
  it('delivers in bounded batches, flushes the late events at the end, and keeps a ledger of what was accepted', async () => {
    const transport = new RecordingTransport();
    const driver = new TrafficDriver({ model: model(), transport, rate: 40_000, maxEvents: 6_000, batchSize: 250, maxInFlight: 3, tickMs: 20 });
    driver.start();
    const stats = await driver.finished;

    const delivered = transport.batches.flat();
    expect(transport.batches.every((b) => b.length <= 250)).toBe(true);
    expect(transport.maxConcurrent).toBeLessThanOrEqual(3);
    expect(stats.generated).toBeGreaterThan(6_000);
    expect(stats).toMatchObject({ sent: delivered.length, generated: delivered.length, errors: 0, unexpected: 0, inFlight: 0, heldBack: 0 });
    expect(stats.rejected).toBe(delivered.filter((e) => e.kind === 'malformed').length);
    expect(stats.duplicates).toBe(delivered.filter((e) => e.kind === 'duplicate').length);
    expect(stats.late).toBeGreaterThan(0);

    const unique = new Set(delivered.filter((e) => e.kind === 'valid').map((e) => identityOf(e.event)));
    expect(driver.ledger.size).toBe(unique.size);
    expect([...driver.ledger.identities()].every((id) => unique.has(id))).toBe(true);
  });

  it('counts a batch that cannot be delivered as failed, leaves it out of the ledger, and goes on', async () => {
    const transport = new RecordingTransport(2);
    const driver = new TrafficDriver({ model: model(), transport, rate: 20_000, maxEvents: 2_000, batchSize: 200, maxInFlight: 1, tickMs: 20, flushLateOnStop: false });
    driver.start();
    const stats = await driver.finished;
    const lost = transport.batches[1];
    expect(stats).toMatchObject({ errors: 1, failed: lost.length, lastError: 'the receiver is gone', sent: 2_000 - lost.length });
    const accepted = transport.batches.filter((_, i) => i !== 1).flat();
    const expected = new Set(accepted.flatMap((e) => (e.kind === 'malformed' ? [] : [identityOf(e.event)])));
    expect(new Set(driver.ledger.identities())).toEqual(expected);
    expect(lost.some((e) => e.kind === 'valid' && !expected.has(identityOf(e.event)))).toBe(true);
  });

  it('follows a rate changed at runtime, and can stop without delivering what is held back', async () => {
    const transport = new RecordingTransport();
    const driver = new TrafficDriver({ model: model(), transport, rate: 0, tickMs: 10 });
    driver.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(driver.stats().generated).toBe(0);
    driver.setRate(20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stats = await driver.stop({ flushLate: false });
    expect(stats.generated).toBeGreaterThan(1_000);
    expect(stats.heldBack).toBeGreaterThan(0);
    expect(stats.sent).toBe(stats.generated);
  });
});
