import { Controller, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InjectConfig, Nats } from '../nats/nats.module.js';
import type { ApiConfig } from '../config.js';
import { ingest, readBody } from './ingest.js';

@Controller('api/v1/events')
export class EventsController {
  constructor(
    private readonly nats: Nats,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  /** Takes one CloudEvent or a batch; 202 once every event is either in the event store or in the dead-letter stream. */
  @Post()
  @HttpCode(202)
  async publish(@Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const body = await readBody(req, this.config.maxBodyBytes);
    const producer = (res.locals.principal as { name?: string } | undefined)?.name ?? 'anonymous';
    return ingest(this.nats, this.config, body, req.headers['content-type'], producer, new Date());
  }
}
