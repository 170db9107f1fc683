import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PulseNames } from '@pulse/contracts';
import { ensureStreams, PartitionCountMismatch } from '@pulse/contracts/sdk';
import { isolatedNats } from '../../../../test/support/services.js';

describe('provisioning the event store on a real nats-server', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let dispose: () => Promise<void>;

  beforeEach(async () => {
    ({ names, nc, dispose } = await isolatedNats(4));
  });
  afterEach(() => dispose());

  it('refuses to narrow a stream of 4 partitions to 2, and leaves its subjects as they were', async () => {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, names);

    const narrower = new PulseNames(names.root, 2);
    const attempt = ensureStreams(jsm, narrower);

    await expect(attempt).rejects.toThrow(PartitionCountMismatch);
    await expect(attempt).rejects.toThrow(/has 4 partitions but this process is configured with 2.*set PULSE_PARTITIONS=4/);
    expect((await jsm.streams.info(names.eventsStream)).config.subjects).toEqual(names.eventSubjects());
  });

  it('widens a stream of 4 partitions to 6, so new partitions start empty beside the old', async () => {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, names);

    const wider = new PulseNames(names.root, 6);
    await ensureStreams(jsm, wider);

    expect((await jsm.streams.info(names.eventsStream)).config.subjects).toEqual(wider.eventSubjects());
  });
});
