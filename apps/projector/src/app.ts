import 'reflect-metadata';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ProjectorConfig } from './config.js';
import { ensureDatabase, migrate } from './migrate.js';
import { Projector } from './projector.js';
import { ProjectorModule } from './projector.module.js';

/** Migrates the database, then starts the projector. Used by main.ts and by tests (in-process). */
export async function startProjector(config: ProjectorConfig, logger: LogLevel[] | false = ['error', 'warn', 'log']) {
  await ensureDatabase(config.databaseUrl);
  await migrate(config.databaseUrl, { timescale: config.timescale });
  const app = await NestFactory.createApplicationContext(ProjectorModule.with(config), { logger });
  await app.init();
  return { app, projector: app.get(Projector) };
}
