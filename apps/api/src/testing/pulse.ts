import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { migratedDatabase } from '../../../../test/support/database.js';
import { caughtUp, readModel, runProjector } from '../../../../test/support/projector.js';
import { isolatedNats } from '../../../../test/support/services.js';
import { startApi } from './api.js';

export interface RunningPulse {
  names: PulseNames;
  nc: NatsConnection;
  url: string;
  app: NestExpressApplication;
  model: ReturnType<typeof readModel>;
  producer: PulseProducer;
  stop(): Promise<void>;
}

/**
 * The real API and projector, in this process, on their own NATS root and database: what the API's
 * end-to-end tests talk to over HTTP and Socket.IO.
 */
export async function startPulse(options: { partitions?: number; apiEnv?: NodeJS.ProcessEnv } = {}): Promise<RunningPulse> {
  const nats = await isolatedNats(options.partitions ?? 2);
  await ensureStreams(await jetstreamManager(nats.nc), nats.names);
  const db = await migratedDatabase();
  const projector = await runProjector(nats.names, db.url);
  // Its workers start on their own: a test's first event must not wait for them to take their partitions.
  await caughtUp(nats.nc, nats.names);
  const { app, url } = await startApi(nats.names, {}, { DATABASE_URL: db.url, ...options.apiEnv });
  const model = readModel(db.url);
  return {
    names: nats.names,
    nc: nats.nc,
    url,
    app,
    model,
    producer: new PulseProducer(jetstream(nats.nc), { names: nats.names, maxEventsPerMessage: 100 }),
    async stop() {
      await app.close();
      await projector.stop();
      await model.close();
      await db.dispose();
      await nats.dispose();
    },
  };
}
