import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, PUBLISHER_CONNECTION, PulseProducer } from '@pulse/contracts/sdk';
import { API_CONFIG, type ApiConfig } from '../config.js';

/** The API's one NATS connection and what is built on it. Streams are provisioned before the API takes traffic. */
@Injectable()
export class Nats implements OnApplicationShutdown {
  constructor(
    readonly connection: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly producer: PulseProducer,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (!this.connection.isClosed()) await this.connection.drain();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: Nats,
      inject: [API_CONFIG],
      useFactory: async (config: ApiConfig) => {
        const nc = await connect({ ...PUBLISHER_CONNECTION, servers: config.natsUrl, name: 'pulse-api', maxReconnectAttempts: -1 });
        const jsm = await jetstreamManager(nc);
        await ensureStreams(jsm, config.names, config.streams);
        const js = jetstream(nc);
        return new Nats(nc, js, jsm, new PulseProducer(js, { names: config.names, marks: config.validationMarks }));
      },
    },
  ],
  exports: [Nats],
})
export class NatsModule {}

export const InjectConfig = () => Inject(API_CONFIG);
