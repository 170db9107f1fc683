import { DeliverPolicy } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { CLOUDEVENTS_BATCH_JSON, decodeMessage } from '@pulse/contracts';
import type pg from 'pg';
import type { JobDeps, OperationRow } from './rebuild-job.js';
import type { ReplayRequest } from './replay-request.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LOOKBACK_MS = 15 * 60_000;

/**
 * Re-publishes stored events to a subject a downstream service names: a range of event time or of
 * stream sequence, optionally only some types, at a limited rate. Events keep their CloudEvents
 * identity (source + id), so a downstream consumer de-duplicates a replay it has partly seen.
 */
export class ReplayJob {
  constructor(
    private readonly deps: JobDeps,
    private readonly op: OperationRow,
    private readonly client: pg.PoolClient,
  ) {}

  async run(): Promise<void> {
    const request = this.op.options as unknown as ReplayRequest;
    const { config, js, jsm, nc } = this.deps;
    const stream = config.names.eventsStream;
    const started = Date.now();
    try {
      if (this.op.status === 'cancelling') return await this.finish('cancelled', null, { published: 0 });
      await this.client.query(`UPDATE pulse.operations SET status = 'running', started_at = coalesce(started_at, now()) WHERE id = $1`, [this.op.id]);
      const info = await jsm.streams.info(stream);
      const head = request.toSeq ? Math.min(request.toSeq, info.state.last_seq) : info.state.last_seq;
      const fromMs = request.from ? Date.parse(request.from) : -Infinity;
      const toMs = request.to ? Date.parse(request.to) : Infinity;
      const types = request.types ? new Set(request.types) : null;
      const start = request.fromSeq
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: request.fromSeq }
        : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(fromMs - LOOKBACK_MS).toISOString() };
      const consumer = await js.consumers.get(stream, { filter_subjects: config.names.allEvents(), ...start });
      let published = 0;
      let scanned = 0;
      let position = request.fromSeq ? request.fromSeq - 1 : info.state.first_seq - 1;
      let lastReport = 0;
      const h = natsHeaders();
      h.set('Content-Type', CLOUDEVENTS_BATCH_JSON);
      h.set('Pulse-Replay', String(this.op.id));
      while (position < head) {
        const status = (await this.client.query<{ status: string }>(`SELECT status FROM pulse.operations WHERE id = $1`, [this.op.id])).rows[0].status;
        if (status === 'cancelling') return await this.finish('cancelled', null, { published, scanned, position });
        const messages = await consumer.fetch({ max_messages: 100, expires: 1000 });
        let got = 0;
        for await (const m of messages) {
          got++;
          position = m.seq;
          if (m.seq > head) break;
          const parsed = decodeMessage(m.data);
          const events = (Array.isArray(parsed) ? parsed : [parsed]).filter((e): e is { time: string; type: string } => {
            if (typeof e !== 'object' || e === null) return false;
            const t = Date.parse((e as { time?: string }).time ?? '');
            return t >= fromMs && t < toMs && (!types || types.has((e as { type: string }).type));
          });
          scanned++;
          if (!events.length) continue;
          nc.publish(request.subject, JSON.stringify(events), { headers: h });
          published += events.length;
          // Rate limit: never ahead of ratePerSecond since the start.
          const ahead = (published / request.ratePerSecond) * 1000 - (Date.now() - started);
          if (ahead > 0) await sleep(ahead);
        }
        if (!got) break;
        if (Date.now() - lastReport > 1000) {
          lastReport = Date.now();
          const progress = { published, scanned, position, head, remainingMessages: Math.max(0, head - position), eventsPerSecond: Math.round((published * 1000) / (Date.now() - started)), at: new Date().toISOString() };
          await this.client.query(`UPDATE pulse.operations SET progress = $2 WHERE id = $1`, [this.op.id, progress]);
          nc.publish(config.names.operationSubject('replay', this.op.id), JSON.stringify({ id: Number(this.op.id), kind: 'replay', status: 'running', ...progress }));
        }
      }
      await nc.flush();
      await this.finish('completed', null, { published, scanned, position, head, remainingMessages: 0, eventsPerSecond: Math.round((published * 1000) / Math.max(1, Date.now() - started)) });
    } catch (e) {
      await this.finish('failed', (e as Error).message, {}).catch(() => undefined);
    }
  }

  private async finish(status: 'completed' | 'cancelled' | 'failed', error: string | null, progress: Record<string, unknown>): Promise<void> {
    const body = { ...progress, at: new Date().toISOString() };
    await this.client.query(`UPDATE pulse.operations SET status = $2, error = $3, finished_at = now(), progress = $4 WHERE id = $1`, [this.op.id, status, error, body]);
    this.deps.nc.publish(this.deps.config.names.operationSubject('replay', this.op.id), JSON.stringify({ id: Number(this.op.id), kind: 'replay', status, error, ...body }));
  }
}
