import { hostname } from 'node:os';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ensureStreams } from '@pulse/contracts/sdk';
import pg from 'pg';
import { ChangeNotifier } from './change-notifier.js';
import type { ProjectorConfig } from './config.js';
import { FoldThreads } from './fold-threads.js';
import { readIdentitySwitches } from './identities.js';
import { PartitionWorker } from './partition-worker.js';
import { Housekeeping } from './operations/housekeeping.js';
import { Operations } from './operations/operations.js';
import { ensureLiveVersions, LIVE } from './read-models.js';

export const PROJECTOR_CONFIG = Symbol('ProjectorConfig');

/**
 * The projector process: one worker per partition of the live pipeline. Every process starts a worker
 * for every partition; each partition's advisory lock lets exactly one of them work at a time, so
 * adding processes spreads partitions and a dead process's partitions are taken over by the others.
 */
@Injectable()
export class Projector implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('projector');
  readonly instance = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  nc!: NatsConnection;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  pool!: pg.Pool;
  notifier!: ChangeNotifier;
  timescale = false;
  workers: PartitionWorker[] = [];
  operations?: Operations;
  housekeeping?: Housekeeping;
  foldThreads?: FoldThreads;

  constructor(@Inject(PROJECTOR_CONFIG) readonly config: ProjectorConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this;
    this.pool = new pg.Pool({ connectionString: config.databaseUrl, max: config.poolSize, application_name: 'pulse-projector' });
    // An idle client losing its connection (database restart) must not crash the process.
    this.pool.on('error', (e) => this.log.warn(`idle database connection lost: ${e.message}`));
    this.nc = await connect({ servers: config.natsUrl, name: 'pulse-projector', noAsyncTraces: true, maxReconnectAttempts: -1 });
    this.jsm = await jetstreamManager(this.nc);
    this.js = jetstream(this.nc);
    await ensureStreams(this.jsm, config.names, config.streams);
    const settings = new Map((await this.pool.query<{ key: string; value: unknown }>(`SELECT key, value FROM pulse.settings`)).rows.map((r) => [r.key, r.value]));
    this.timescale = settings.get('timescale') === true;
    const identitySwitches = readIdentitySwitches(settings);
    await ensureLiveVersions(this.pool, config.names.partitions, config.allowedLatenessMs);
    this.notifier = new ChangeNotifier(this.nc, config.names, config.notifyIntervalMs);
    const deps = { pool: this.pool, js: this.js, jsm: this.jsm, config, notifier: this.notifier, log: this.log, timescale: this.timescale, identitySwitches, instance: this.instance };
    this.workers = Array.from({ length: config.names.partitions }, (_, p) => new PartitionWorker(deps, LIVE, p));
    for (const w of this.workers) w.start();
    if (config.rebuildFoldThreads > 0) this.foldThreads = new FoldThreads(config.rebuildFoldThreads);
    this.operations = new Operations({ ...deps, nc: this.nc, livePending: () => this.livePending(), foldThreads: this.foldThreads });
    this.operations.start();
    this.housekeeping = new Housekeeping(this.pool, config, this.timescale, this.log);
    this.housekeeping.start();
    this.log.log(`started ${this.workers.length} partition workers (${this.timescale ? 'TimescaleDB' : 'PostgreSQL'}) as ${this.instance}`);
  }

  /** Messages the live pipeline has not committed yet: rebuilds give way while it is behind. */
  async livePending(): Promise<number> {
    let pending = 0;
    for (const w of this.workers) {
      const info = await this.jsm.consumers.info(this.config.names.eventsStream, w.durable).catch(() => undefined);
      if (info) pending += info.num_pending + info.num_ack_pending;
    }
    return pending;
  }

  async onApplicationShutdown(): Promise<void> {
    this.housekeeping?.stop();
    await this.operations?.stop();
    await this.foldThreads?.close();
    await Promise.all(this.workers.map((w) => w.stop()));
    this.notifier?.stop();
    if (this.nc && !this.nc.isClosed()) await this.nc.drain();
    await this.pool?.end();
  }
}
