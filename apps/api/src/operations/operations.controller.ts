import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeEndpoint } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import type { Response } from 'express';
import { API_CONFIG, type ApiConfig } from '../config.js';
import { Requires } from '../auth/access.js';
import { Nats } from '../nats/nats.module.js';
import { ReadModels } from '../read-models/read-models.js';
import { Metrics } from './metrics.js';
import { partitionStatus } from './projection-status.js';

/** Liveness, readiness and Prometheus metrics: unauthenticated, for orchestrators and scrapers. */
@Controller()
export class OperationsController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicator: HealthIndicatorService,
    private readonly nats: Nats,
    private readonly models: ReadModels,
    private readonly metrics: Metrics,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
  ) {}

  @Get('health/live')
  @Requires('public')
  @ApiExcludeEndpoint()
  live() {
    return { status: 'ok' };
  }

  /**
   * Ready when NATS and PostgreSQL answer. Projector lag beyond PULSE_READY_MAX_LAG_SECONDS makes the
   * API "degraded" (still 200): the numbers are late, not wrong, and taking every API instance out of
   * rotation would only hide them.
   */
  @Get('health/ready')
  @Requires('public')
  @HealthCheck()
  @ApiExcludeEndpoint()
  ready() {
    return this.health.check([
      async () => {
        const nats = this.indicator.check('nats');
        if (this.nats.connection.isClosed()) return nats.down({ message: 'connection closed' });
        try {
          await this.nats.connection.flush();
          return nats.up();
        } catch (e) {
          return nats.down({ message: (e as Error).message });
        }
      },
      async () => {
        const db = this.indicator.check('postgresql');
        try {
          await this.models.pool.query('SELECT 1');
          return db.up();
        } catch (e) {
          return db.down({ message: (e as Error).message });
        }
      },
      async () => {
        const projector = this.indicator.check('projector');
        const partitions = (await partitionStatus(this.models, this.nats, this.config, Date.now())).filter((p) => p.pipeline === 'live');
        const lagSeconds = Math.max(0, ...partitions.map((p) => p.lagSeconds));
        const lagEvents = partitions.reduce((s, p) => s + p.lagEvents, 0);
        for (const p of partitions) this.metrics.lagEvents.set({ partition: String(p.partition) }, p.lagEvents);
        this.metrics.lagSeconds.set(lagSeconds);
        if (!partitions.length) return projector.down({ message: 'no projector has started yet' });
        return lagSeconds > this.config.readyMaxLagSeconds ? projector.degraded({ lagSeconds, lagEvents }) : projector.up({ lagSeconds, lagEvents });
      },
    ]);
  }

  @Get('metrics')
  @Requires('public')
  @ApiExcludeEndpoint()
  async prometheus(@Res() res: Response) {
    const partitions = await partitionStatus(this.models, this.nats, this.config, Date.now()).catch(() => []);
    for (const p of partitions.filter((x) => x.pipeline === 'live')) this.metrics.lagEvents.set({ partition: String(p.partition) }, p.lagEvents);
    if (partitions.length) this.metrics.lagSeconds.set(Math.max(0, ...partitions.map((p) => p.lagSeconds)));
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
