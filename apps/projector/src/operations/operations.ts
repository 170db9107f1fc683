import type { Subscription } from '@nats-io/transport-node';
import { checkRebuildRequest, operationRecord } from '@pulse/domain';
import type pg from 'pg';
import { RebuildJob, type JobDeps, type OperationRow } from './rebuild-job.js';
import { ReplayJob } from './replay-job.js';
import { checkReplayRequest } from './replay-request.js';

export interface CommandReply {
  ok: boolean;
  status?: number;
  code?: string;
  detail?: string;
  operation?: Record<string, unknown>;
}

function refuse(status: number, code: string, detail: string): CommandReply {
  return { ok: false, status, code, detail };
}

/**
 * Admin commands over NATS request/reply (the API's admin routes forward to these) and the runner that
 * carries operations out. Any projector process answers (queue group); whichever takes an operation's
 * advisory lock runs it, so a crashed runner's operation is resumed by another, or by its restart.
 */
export class Operations {
  private readonly running = new Map<string, Promise<void>>();
  private subscriptions: Subscription[] = [];
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: JobDeps) {}

  start(): void {
    const { nc, config } = this.deps;
    const handle = (command: string, work: (body: Record<string, unknown>) => Promise<CommandReply>) =>
      nc.subscribe(config.names.adminSubject(command), {
        queue: 'pulse-projector',
        callback: (err, msg) => {
          if (err) return;
          let body: Record<string, unknown>;
          try {
            body = msg.json<Record<string, unknown>>();
          } catch {
            msg.respond(JSON.stringify(refuse(400, 'malformed_json', 'the command is not JSON')));
            return;
          }
          work(body)
            .catch((e: Error) => refuse(500, 'internal_error', e.message))
            .then((reply) => msg.respond(JSON.stringify(reply)));
        },
      });
    this.subscriptions = [handle('rebuild', (b) => this.requestRebuild(b)), handle('cancel', (b) => this.cancel(b)), handle('replay', (b) => this.requestReplay(b))];
    this.timer = setInterval(() => void this.poll(), 1000);
    void this.poll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    for (const s of this.subscriptions) s.unsubscribe();
    await Promise.allSettled(this.running.values());
  }

  async requestRebuild(body: Record<string, unknown>): Promise<CommandReply> {
    const checked = checkRebuildRequest(body);
    if (!checked.ok) return refuse(400, 'invalid_rebuild', checked.problems.join('; '));
    const requestedBy = typeof body.requestedBy === 'string' && body.requestedBy ? body.requestedBy : 'nats';
    try {
      const { rows } = await this.deps.pool.query<OperationRow>(
        `INSERT INTO pulse.operations (kind, projection, status, requested_by, reason, options) VALUES ('rebuild', $1, 'requested', $2, $3, $4) RETURNING *`,
        [checked.request.projection, requestedBy, checked.request.reason, checked.request],
      );
      void this.poll();
      return { ok: true, operation: operationRecord(rows[0], new Date()) };
    } catch (e) {
      if ((e as { code?: string }).code !== '23505') throw e;
      const { rows } = await this.deps.pool.query<{ id: string; requested_by: string; created_at: Date }>(
        `SELECT id, requested_by, created_at FROM pulse.operations WHERE kind = 'rebuild' AND projection = $1 AND status IN ('requested', 'running', 'cancelling')`,
        [checked.request.projection],
      );
      const running = rows[0];
      return refuse(409, 'rebuild_running', `a rebuild of ${checked.request.projection} is already running (operation ${running?.id}, asked by ${running?.requested_by} at ${running?.created_at.toISOString()}); wait for it or cancel it`);
    }
  }

  async requestReplay(body: Record<string, unknown>): Promise<CommandReply> {
    const checked = checkReplayRequest(body, this.deps.config.names);
    if (!checked.ok) return refuse(400, 'invalid_replay', checked.problems.join('; '));
    const requestedBy = typeof body.requestedBy === 'string' && body.requestedBy ? body.requestedBy : 'nats';
    const { rows } = await this.deps.pool.query<OperationRow>(
      `INSERT INTO pulse.operations (kind, status, requested_by, reason, options) VALUES ('replay', 'requested', $1, $2, $3) RETURNING *`,
      [requestedBy, checked.request.reason, checked.request],
    );
    void this.poll();
    return { ok: true, operation: operationRecord(rows[0], new Date()) };
  }

  async cancel(body: Record<string, unknown>): Promise<CommandReply> {
    const id = Number(body.id);
    if (!Number.isInteger(id)) return refuse(400, 'invalid_cancel', 'id must be an operation id');
    const { rows } = await this.deps.pool.query<OperationRow>(
      `UPDATE pulse.operations SET status = 'cancelling' WHERE id = $1 AND status IN ('requested', 'running') RETURNING *`,
      [id],
    );
    if (rows.length) return { ok: true, operation: operationRecord(rows[0], new Date()) };
    const existing = await this.deps.pool.query<{ status: string }>(`SELECT status FROM pulse.operations WHERE id = $1`, [id]);
    if (!existing.rows.length) return refuse(404, 'not_found', `there is no operation ${id}`);
    return refuse(409, 'not_running', `operation ${id} is ${existing.rows[0].status}; only a requested or running operation can be cancelled`);
  }

  /** Takes up every open operation no one is running: new ones, and ones whose runner died. */
  private async poll(): Promise<void> {
    if (this.stopped) return;
    let open: OperationRow[];
    try {
      open = (await this.deps.pool.query<OperationRow>(`SELECT * FROM pulse.operations WHERE status IN ('requested', 'running', 'cancelling') ORDER BY id`)).rows;
    } catch {
      return;
    }
    for (const op of open) {
      if (this.running.has(op.id)) continue;
      const run = this.tryRun(op).finally(() => this.running.delete(op.id));
      this.running.set(op.id, run);
    }
  }

  private async tryRun(op: OperationRow): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      client = await this.deps.pool.connect();
      client.on('error', () => undefined);
      const locked = (await client.query<{ ok: boolean }>(`SELECT pg_try_advisory_lock(hashtext('pulse:operation'), $1) AS ok`, [Number(op.id)])).rows[0].ok;
      if (!locked) return;
      // Read again under the lock: another runner may have finished it meanwhile.
      const fresh = (await client.query<OperationRow>(`SELECT * FROM pulse.operations WHERE id = $1`, [op.id])).rows[0];
      if (!['requested', 'running', 'cancelling'].includes(fresh.status)) return;
      if (fresh.kind === 'rebuild') await new RebuildJob(this.deps, fresh, client).run();
      else await new ReplayJob(this.deps, fresh, client).run();
    } catch (e) {
      this.deps.log.warn(`operation ${op.id}: ${(e as Error).message}`);
    } finally {
      // Closing the session releases the advisory lock too.
      client?.release(true);
    }
  }
}
