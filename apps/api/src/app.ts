import 'reflect-metadata';
import type { LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import { AppModule } from './app.module.js';
import type { ApiConfig } from './config.js';

const INGEST_PATH = '/api/v1/events';

/** Builds the API. Used by main.ts and by the tests, which boot the real app on a free port. */
export async function createApi(config: ApiConfig, logger: LogLevel[] | false = ['error', 'warn', 'log']): Promise<NestExpressApplication> {
  // The ingestion route reads its own body (it must keep the original bytes); every other route gets JSON.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.with(config), { bodyParser: false, logger });
  const json = express.json({ limit: '1mb' });
  app.use((req: express.Request, res: express.Response, next: express.NextFunction) => (req.path === INGEST_PATH ? next() : json(req, res, next)));
  app.enableCors({ exposedHeaders: ['Retry-After'] });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Pulse API')
      .setDescription('Ingestion, read models, live push and administration of Pulse. Errors are RFC 9457 problem documents. Live updates: Socket.IO namespace /live (see docs/api.md).')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
  return app;
}
