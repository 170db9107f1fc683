import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { recentMinute, useClock } from '@pulse/contracts/testing';
import { migratedDatabase } from '../../../test/support/database.js';
import { privatePostgres } from '../../../test/support/private-postgres.js';
import { caughtUp, readModel, runProjector } from '../../../test/support/projector.js';
import { isolatedNats } from '../../../test/support/services.js';
import { mixedTraffic } from '../../../test/support/traffic.js';
import { migrate } from './migrate.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('PostgreSQL restarted while the projector runs', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;

  beforeAll(async () => {
    useClock(recentMinute(40));
    ({ names, nc, dispose: disposeNats } = await isolatedNats(2));
    await ensureStreams(await jetstreamManager(nc), names);
  });
  afterAll(() => disposeNats());

  it('recovers by itself, with nothing lost or doubled', async () => {
    const server = await privatePostgres();
    const reference = await migratedDatabase();
    try {
      await migrate(server.url, { timescale: 'off' });
      const producer = new PulseProducer(jetstream(nc), { names, maxEventsPerMessage: 100 });
      const traffic = mixedTraffic(40_000, { minutes: 20, seed: 9 });

      const outage = await runProjector(names, server.url, { consumerPrefix: 'outage-', ackWaitMs: 2000, maxBatchMessages: 10 });
      const publishing = producer.publishValidated(traffic);
      await sleep(700);
      await server.stop();
      await sleep(1500); // the projector keeps failing its batches meanwhile
      await server.start();
      await publishing;
      await caughtUp(nc, names, 90_000, 'outage-');
      await outage.stop();

      const clean = await runProjector(names, reference.url, { consumerPrefix: 'clean-' });
      await caughtUp(nc, names, 90_000, 'clean-');
      await clean.stop();

      const [expected, actual] = [readModel(reference.url), readModel(server.url)];
      const [want, got] = [await expected.dump(), await actual.dump()];
      await expected.close();
      await actual.close();
      expect(want.length).toBeGreaterThan(1000);
      expect(got).toEqual(want);
    } finally {
      await server.destroy();
      await reference.dispose();
    }
  }, 180_000);
});
