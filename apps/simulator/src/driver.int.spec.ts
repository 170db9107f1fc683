import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { DeadLetterHeaders, identityOf, type PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { isolatedNats } from '../../../test/support/services.js';
import { readStream, storedEvents } from '../../../test/support/streams.js';
import { TrafficDriver, type Delivery, type Transport } from './driver.js';
import { SdkTransport } from './sdk-transport.js';
import { TrafficModel, type Emission } from './traffic-model.js';

describe('driving traffic through the producer SDK into a real nats-server', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ names, nc, dispose } = await isolatedNats());
    await ensureStreams(await jetstreamManager(nc), names);
  });
  afterEach(() => dispose());

  it('stores exactly the unique valid events of the ledger, and every malformed one as a dead letter', async () => {
    const sdk = new SdkTransport(new PulseProducer(jetstream(nc), { names }), { producerName: 'simulator-test' });
    const sent: Emission[] = [];
    const recording: Transport = {
      deliver: (batch): Promise<Delivery> => {
        sent.push(...batch);
        return sdk.deliver(batch);
      },
    };
    const model = new TrafficModel({ seed: 11, startMs: Date.now(), duplicate: 0.03, malformed: 0.01, late: 0.03, lateMinMs: 1_000, lateMaxMs: 60_000, outOfOrder: 0.05 });
    const driver = new TrafficDriver({ model, transport: recording, rate: 8_000, maxEvents: 2_000, batchSize: 250, maxInFlight: 4, tickMs: 25 });
    driver.start();
    const stats = await driver.finished;

    const malformed = sent.filter((e) => e.kind === 'malformed');
    expect(malformed.length).toBeGreaterThan(5);
    expect(sent.some((e) => e.kind === 'duplicate')).toBe(true);
    expect(stats).toMatchObject({ errors: 0, unexpected: 0, rejected: malformed.length, heldBack: 0 });

    // Duplicates sent in other batches are stored again (the projector de-duplicates); identities are what must match.
    const stored = (await storedEvents(nc, names.eventsStream)) as Array<{ source: string; id: string }>;
    expect(new Set(stored.map(identityOf))).toEqual(new Set(driver.ledger.identities()));
    expect(driver.ledger.size).toBe(new Set(sent.filter((e) => e.kind === 'valid').map((e) => identityOf(e.event))).size);

    const letters = await readStream(nc, names.deadLetterStream);
    expect(letters.map((l) => l.headers[DeadLetterHeaders.EventId]).sort()).toEqual(malformed.map((e) => e.event.id).sort());
    expect(letters.every((l) => l.headers[DeadLetterHeaders.Producer] === 'simulator-test')).toBe(true);
  });
});
