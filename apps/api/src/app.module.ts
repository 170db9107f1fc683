import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { API_CONFIG, type ApiConfig } from './config.js';
import { ProblemFilter } from './http/problem.js';
import { EventsController } from './ingestion/events.controller.js';
import { NatsModule } from './nats/nats.module.js';

@Module({})
export class AppModule {
  static with(config: ApiConfig): DynamicModule {
    return {
      module: AppModule,
      global: true,
      imports: [NatsModule],
      controllers: [EventsController],
      providers: [{ provide: API_CONFIG, useValue: config }, { provide: APP_FILTER, useClass: ProblemFilter }],
      exports: [API_CONFIG],
    };
  }
}
