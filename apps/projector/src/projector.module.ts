import { Module, type DynamicModule } from '@nestjs/common';
import type { ProjectorConfig } from './config.js';
import { Projector, PROJECTOR_CONFIG } from './projector.js';

@Module({})
export class ProjectorModule {
  static with(config: ProjectorConfig): DynamicModule {
    return { module: ProjectorModule, providers: [{ provide: PROJECTOR_CONFIG, useValue: config }, Projector], exports: [Projector] };
  }
}
