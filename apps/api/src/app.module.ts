import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { AdminController } from './admin/admin.controller.js';
import { AccessGuard } from './auth/access.js';
import { API_CONFIG, type ApiConfig } from './config.js';
import { ProblemFilter } from './http/problem.js';
import { EventsController } from './ingestion/events.controller.js';
import { LiveGateway } from './live/live.gateway.js';
import { NatsModule } from './nats/nats.module.js';
import { Metrics } from './operations/metrics.js';
import { OperationsController } from './operations/operations.controller.js';
import { ReadModels } from './read-models/read-models.js';
import { ReadsController } from './read-models/reads.controller.js';

@Module({})
export class AppModule {
  static with(config: ApiConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [NatsModule, TerminusModule.forRoot({ logger: false })],
      controllers: [EventsController, ReadsController, AdminController, OperationsController],
      providers: [
        { provide: API_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_GUARD, useClass: AccessGuard },
        ReadModels,
        Metrics,
        LiveGateway,
      ],
      exports: [API_CONFIG],
    };
  }
}
