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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a projector killed mid-batch', () => {
  let names: PulseNames;
  let nc: NatsConnection;
  let disposeNats: () => Promise<void>;

  beforeAll(async () => {
    useClock(recentMinute(40));
    ({ names, nc, dispose: disposeNats } = await isolatedNats(4));
    await ensureStreams(await jetstreamManager(nc), names);
    // Small messages, so a run is many batches and a kill lands mid-way through the stream.
    const producer = new PulseProducer(jetstream(nc), { names, maxEventsPerMessage: 200 });
    await producer.publishValidated(mixedTraffic(120_000, { minutes: 30 }));
  }, 120_000);
  afterAll(() => disposeNats());

  const env = (databaseUrl: string, prefix: string) => ({
    NATS_URL,
    DATABASE_URL: databaseUrl,
    PULSE_ROOT: names.root,
    PULSE_PARTITIONS: String(names.partitions),
    PULSE_CONSUMER_PREFIX: prefix,
    PULSE_ACK_WAIT_MS: '1000',
    PULSE_TIMESCALE: 'off',
    PULSE_BATCH_MAX_MESSAGES: '20',
  });

  it('with SIGKILL at random points, several times, ends with exactly the read model of a clean run', async () => {
    const clean = await migratedDatabase();
    const crashed = await migratedDatabase();
    const cleanModel = readModel(clean.url);
    const crashedModel = readModel(crashed.url);
    try {
      const cleanRun = spawnApp('projector', env(clean.url, 'clean-'));
      await caughtUp(nc, names, 120_000, 'clean-');
      await kill(cleanRun, 'SIGTERM');

      const committed = async () => Number((await crashedModel.pool.query<{ events: string | null }>(`SELECT sum(events) AS events FROM pulse.checkpoints`)).rows[0].events ?? 0);
      let seed = 7;
      for (let round = 0; round < 5; round++) {
        const before = await committed();
        const run = spawnApp('projector', env(crashed.url, 'crashed-'));
        // Each kill lands after this run has committed something (however long it took to start), at a random point after that.
        await eventually(async () => ((await committed()) > before ? true : undefined), 60_000, `round ${round}'s projector to commit a batch`);
        seed = (seed * 48271) % 2147483647;
        await sleep(seed % 800);
        await kill(run, 'SIGKILL');
      }
      const last = spawnApp('projector', env(crashed.url, 'crashed-'));
      await caughtUp(nc, names, 120_000, 'crashed-');
      await kill(last, 'SIGTERM');

      const [expected, actual] = [await cleanModel.dump(), await crashedModel.dump()];
      expect(expected.length).toBeGreaterThan(1000);
      if (process.env.PULSE_TEST_DUMP) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync('/tmp/expected.txt', expected.join('\n'));
        writeFileSync('/tmp/actual.txt', actual.join('\n'));
      }
      expect(actual).toEqual(expected);
      const counts = await crashedModel.pool.query<{ events: string; duplicates: string }>(`SELECT sum(events) AS events, sum(duplicates) AS duplicates FROM pulse.checkpoints`);
      const cleanCounts = await cleanModel.pool.query<{ events: string; duplicates: string }>(`SELECT sum(events) AS events, sum(duplicates) AS duplicates FROM pulse.checkpoints`);
      expect(counts.rows[0]).toEqual(cleanCounts.rows[0]);
    } finally {
      await cleanModel.close();
      await crashedModel.close();
      await clean.dispose();
      await crashed.dispose();
    }
  }, 300_000);
});
