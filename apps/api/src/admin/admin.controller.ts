import { Controller, Get, HttpCode, Param, Post, Res } from '@nestjs/common';
import type { Response } from 'express';
import { operationRecord, type StoredOperation } from '@pulse/domain';
import type { Principal } from '../auth/access.js';
import type { ApiConfig } from '../config.js';
import { Endpoint, Input, validateInput } from '../http/endpoint.js';
import { Problem } from '../http/problem.js';
import { InjectConfig, Nats } from '../nats/nats.module.js';
import { projectionStatus } from '../operations/projection-status.js';
import { ReadModels } from '../read-models/read-models.js';
import { inspectDeadLetter, listDeadLetters, resubmitDeadLetters } from './dead-letters.js';
import { adminSchemas } from './schemas.js';

interface CommandReply {
  ok: boolean;
  status?: number;
  code?: string;
  detail?: string;
  operation?: Record<string, unknown>;
}

const ID = { type: 'object' as const, required: ['id'], properties: { id: { type: 'integer', minimum: 1 } } };

/**
 * Admin commands. Rebuilds and replays belong to the projector: they are sent to it as NATS requests
 * (the documented command subjects) and its answer becomes the HTTP answer.
 */
@Controller('api/v1/admin')
export class AdminController {
  constructor(
    private readonly nats: Nats,
    private readonly models: ReadModels,
    @InjectConfig() private readonly config: ApiConfig,
  ) {}

  private async command(name: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    let reply: CommandReply;
    try {
      reply = (await this.nats.connection.request(this.config.names.adminSubject(name), JSON.stringify(body), { timeout: 10_000 })).json<CommandReply>();
    } catch (e) {
      throw new Problem(503, 'projector_unavailable', `no projector answered the ${name} command (${(e as Error).message}); is one running?`, {}, { 'Retry-After': '5' });
    }
    if (!reply.ok) throw new Problem(reply.status ?? 500, reply.code ?? 'command_failed', reply.detail ?? 'the projector refused the command');
    return reply.operation!;
  }

  @Get('projections')
  @Endpoint({ tag: 'admin', summary: 'Every projection: served version, versions, checkpoints, lag, rate, watermark, errors, dead letters', role: 'admin', response: adminSchemas.projectionsResponse })
  projections() {
    return projectionStatus(this.models, this.nats, this.config);
  }

  @Post('rebuilds')
  @HttpCode(202)
  @Endpoint({ tag: 'admin', summary: 'Rebuild a projection (full, from a time, from a stream sequence) beside the served version; swapped in when caught up', role: 'admin', body: adminSchemas.rebuildBody, response: adminSchemas.operation, status: 202, errors: [409, 503] })
  rebuild(@Input() body: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    return this.command('rebuild', { ...body, requestedBy: (res.locals.principal as Principal).name });
  }

  @Get('rebuilds')
  @Endpoint({ tag: 'admin', summary: 'Audit history of rebuilds and replays, newest first', role: 'admin', query: adminSchemas.operationsQuery, response: adminSchemas.operationsResponse })
  async operations(@Input() q: { kind?: string; limit: number }) {
    const { rows } = await this.models.pool.query<StoredOperation>(`SELECT * FROM pulse.operations WHERE ($1::text IS NULL OR kind = $1) ORDER BY id DESC LIMIT $2`, [q.kind ?? null, q.limit]);
    return { rows: rows.map((r) => operationRecord(r, new Date())) };
  }

  @Get('rebuilds/:id')
  @Endpoint({ tag: 'admin', summary: 'One rebuild or replay, with its progress', role: 'admin', response: adminSchemas.operation, errors: [404] })
  async operation(@Param('id') raw: string) {
    const { id } = validateInput<{ id: number }>(ID, { id: raw }, 'query');
    const { rows } = await this.models.pool.query<StoredOperation>(`SELECT * FROM pulse.operations WHERE id = $1`, [id]);
    if (!rows.length) throw new Problem(404, 'not_found', `there is no operation ${id}`);
    return operationRecord(rows[0], new Date());
  }

  @Post('rebuilds/:id/cancel')
  @Endpoint({ tag: 'admin', summary: 'Cancel a requested or running rebuild or replay', role: 'admin', response: adminSchemas.operation, errors: [404, 409, 503] })
  cancel(@Param('id') raw: string, @Res({ passthrough: true }) res: Response) {
    const { id } = validateInput<{ id: number }>(ID, { id: raw }, 'query');
    return this.command('cancel', { id, requestedBy: (res.locals.principal as Principal).name });
  }

  @Post('replays')
  @HttpCode(202)
  @Endpoint({ tag: 'admin', summary: 'Re-publish a range of stored events to a downstream subject, rate limited', role: 'admin', body: adminSchemas.replayBody, response: adminSchemas.operation, status: 202, errors: [503] })
  replay(@Input() body: Record<string, unknown>, @Res({ passthrough: true }) res: Response) {
    return this.command('replay', { ...body, requestedBy: (res.locals.principal as Principal).name });
  }

  @Get('dead-letters')
  @Endpoint({ tag: 'admin', summary: 'Dead letters, newest first, with reason and counts by stage and code', role: 'admin', query: adminSchemas.deadLettersQuery, response: adminSchemas.deadLettersResponse })
  deadLetters(@Input() q: { stage?: string; code?: string; before?: number; limit: number }) {
    return listDeadLetters(this.nats, this.models.pool, this.config.names, q);
  }

  @Get('dead-letters/:seq')
  @Endpoint({ tag: 'admin', summary: 'One dead letter: reason, field errors, headers and the original bytes', role: 'admin', response: adminSchemas.deadLetterResponse, errors: [404] })
  deadLetter(@Param('seq') raw: string) {
    const { id } = validateInput<{ id: number }>(ID, { id: raw }, 'query');
    return inspectDeadLetter(this.nats, this.models.pool, this.config.names, id);
  }

  @Post('dead-letters/resubmit')
  @Endpoint({ tag: 'admin', summary: 'Re-submit dead letters after a fix: validated again, counted once', role: 'admin', body: adminSchemas.resubmitBody, response: adminSchemas.resubmitResponse })
  resubmit(@Input() body: { seqs?: number[]; all?: boolean; stage?: string; code?: string }, @Res({ passthrough: true }) res: Response) {
    return resubmitDeadLetters(this.nats, this.models.pool, this.config.names, (res.locals.principal as Principal).name, body);
  }
}
