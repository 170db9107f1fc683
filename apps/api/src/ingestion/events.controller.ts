import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import { ApiConsumes } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { IngestRateLimiter } from '../auth/rate-limit.js';
import type { Principal } from '../auth/access.js';
import { Endpoint } from '../http/endpoint.js';
import { InjectConfig, Nats } from '../nats/nats.module.js';
import type { ApiConfig } from '../config.js';
import { Metrics } from '../operations/metrics.js';
import { ingest, readBody } from './ingest.js';

const rejection = {
  type: 'object',
  required: ['index', 'code', 'reason', 'errors'],
  properties: {
    index: { type: 'integer' }, id: { type: 'string' }, type: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', required: ['field', 'message'], properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
};

@Controller('api/v1/events')
export class EventsController {
  private readonly limiter: IngestRateLimiter;

  constructor(
    private readonly nats: Nats,
    private readonly metrics: Metrics,
    @InjectConfig() private readonly config: ApiConfig,
  ) {
    this.limiter = new IngestRateLimiter(config.ingestRate);
  }

  /** Takes one CloudEvent or a batch; 202 once every event is either in the event store or in the dead-letter stream. */
  @Post()
  @HttpCode(202)
  @ApiConsumes('application/cloudevents+json', 'application/cloudevents-batch+json', 'application/json')
  @Endpoint({
    tag: 'ingestion',
    summary: 'Publish one CloudEvent or a batch. Valid events are stored; each rejected one is reported here and kept in the dead-letter stream.',
    role: 'producer',
    status: 202,
    errors: [413, 415, 422, 429, 503],
    response: { type: 'object', required: ['accepted', 'duplicateMessages', 'rejected'], properties: { accepted: { type: 'integer' }, duplicateMessages: { type: 'integer' }, rejected: { type: 'array', items: rejection } } },
  })
  async publish(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const body = await readBody(req, this.config.maxBodyBytes);
    const producer = (res.locals.principal as Principal).name;
    const result = await ingest(this.nats, this.config, body, req.headers['content-type'], producer, new Date(), (events) => this.limiter.take(producer, events, Date.now())).catch((e: unknown) => {
      this.metrics.ingestFailed(producer, e);
      throw e;
    });
    this.metrics.ingested(producer, result.accepted, result.rejected.length);
    return result;
  }
}
