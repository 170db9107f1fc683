import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { recentMinute, useClock } from '@pulse/contracts/testing';
import { migratedDatabase } from '../../../test/support/database.js';
import { kill, spawnApp } from '../../../test/support/processes.js';
import { caughtUp, readModel } from '../../../test/support/projector.js';
import { eventually, isolatedNats, NATS_URL } from '../../../test/support/services.js';
import { mixedTraffic } from '../../../test/support/traffic.js';

describe('several projector processes sharing the partitions', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;

  beforeAll(async () => {
    useClock(recentMinute(40));
    ({ names, nc, dispose: disposeNats } = await isolatedNats(4));
    await ensureStreams(await jetstreamManager(nc), names);
  });
  afterAll(() => disposeNats());

  const env = (databaseUrl: string, prefix: string, preferred: string) => ({
    NATS_URL,
    DATABASE_URL: databaseUrl,
    PULSE_ROOT: names.root,
    PULSE_PARTITIONS: '4',
    PULSE_CONSUMER_PREFIX: prefix,
    PULSE_PREFERRED_PARTITIONS: preferred,
    PULSE_TAKEOVER_GRACE_MS: '1500',
    PULSE_ACK_WAIT_MS: '1000',
    PULSE_TIMESCALE: 'off',
  });

  it('give exactly the read model one process gives, also when one of them dies and the other takes over', async () => {
    const single = await migratedDatabase();
    const shared = await migratedDatabase();
    const [singleModel, sharedModel] = [readModel(single.url), readModel(shared.url)];
    const producer = new PulseProducer(jetstream(nc), { names, maxEventsPerMessage: 100 });
    try {
      await producer.publishValidated(mixedTraffic(30_000, { minutes: 30, seed: 21 }));
      const first = spawnApp('projector', env(shared.url, 'shared-', '0,1'));
      const second = spawnApp('projector', env(shared.url, 'shared-', '2,3'));
      // Each process owns the partitions it prefers.
      const owners = await eventually(async () => {
        const { rows } = await sharedModel.pool.query<{ partition: number; owner: string | null }>(`SELECT partition, owner FROM pulse.checkpoints WHERE pipeline = 'live' ORDER BY partition`);
        return rows.length === 4 && rows.every((r) => r.owner) ? rows : undefined;
      }, 20_000, 'all partitions to be owned');
      expect(owners[0].owner).toBe(owners[1].owner);
      expect(owners[2].owner).toBe(owners[3].owner);
      expect(owners[0].owner).not.toBe(owners[2].owner);

      // More traffic while the second one dies: the first takes its partitions over.
      const more = producer.publishValidated(mixedTraffic(30_000, { minutes: 30, seed: 22 }).map((e) => ({ ...e, id: `more-${e.id}` })));
      await kill(second, 'SIGKILL');
      await more;
      await caughtUp(nc, names, 90_000, 'shared-');
      const after = await sharedModel.pool.query<{ owners: string }>(`SELECT count(DISTINCT owner) AS owners FROM pulse.checkpoints WHERE pipeline = 'live'`);
      expect(Number(after.rows[0].owners)).toBe(1);
      await kill(first, 'SIGTERM');

      const alone = spawnApp('projector', env(single.url, 'single-', ''));
      await caughtUp(nc, names, 90_000, 'single-');
      await kill(alone, 'SIGTERM');
      const [expected, actual] = [await singleModel.dump(), await sharedModel.dump()];
      expect(expected.length).toBeGreaterThan(1000);
      expect(actual).toEqual(expected);
    } finally {
      await singleModel.close();
      await sharedModel.close();
      await single.dispose();
      await shared.dispose();
    }
  }, 240_000);
});
