import { PROJECTIONS } from '@pulse/domain';
import type { ApiConfig } from '../config.js';
import type { Nats } from '../nats/nats.module.js';
import type { ReadModels } from '../read-models/read-models.js';

interface CheckpointRow {
  pipeline: string;
  partition: number;
  stream_seq: string;
  max_event_ms: string | null;
  events: string;
  duplicates: string;
  dead_letters: string;
  messages: string;
  stored_ms: string | null;
  last_error: string | null;
  owner: string | null;
  updated_at: Date;
}

export interface PartitionStatus {
  pipeline: string;
  partition: number;
  checkpoint: number;
  pendingMessages: number;
  lagEvents: number;
  lagSeconds: number;
  eventsPerSecond: number;
  events: number;
  duplicates: number;
  deadLetters: number;
  /** Highest event time seen (information: lateness is judged by arrival). */
  reachedEventTime: string | null;
  /** Arrival time of the last message applied: the partition's watermark is this minus the allowed lateness. */
  arrivedUpTo: string | null;
  owner: string | null;
  lastError: string | null;
  updatedAt: string;
}

/** Events per second per pipeline partition, from the change of its event count between two looks. */
const samples = new Map<string, { at: number; events: number; rate: number }>();

function rateOf(key: string, events: number, nowMs: number): number {
  const last = samples.get(key);
  if (!last) {
    samples.set(key, { at: nowMs, events, rate: 0 });
    return 0;
  }
  if (nowMs - last.at < 1000) return last.rate;
  const rate = ((events - last.events) * 1000) / (nowMs - last.at);
  samples.set(key, { at: nowMs, events, rate });
  return rate;
}

/** Where every pipeline partition stands: checkpoint, what JetStream still holds for it, and how fast it moves. */
export async function partitionStatus(models: ReadModels, nats: Nats, config: ApiConfig, nowMs: number): Promise<PartitionStatus[]> {
  const { rows } = await models.pool.query<CheckpointRow>(`SELECT * FROM pulse.checkpoints ORDER BY pipeline, partition`);
  return Promise.all(
    rows.map(async (r) => {
      const durable = `${config.consumerPrefix}${r.pipeline}-p${r.partition}`;
      const info = r.pipeline === 'live' ? await nats.jsm.consumers.info(config.names.eventsStream, durable).catch(() => undefined) : undefined;
      const pending = info ? info.num_pending + info.num_ack_pending : 0;
      const messages = Number(r.messages);
      const perMessage = messages ? (Number(r.events) + Number(r.duplicates) + Number(r.dead_letters)) / messages : 1;
      return {
        pipeline: r.pipeline,
        partition: r.partition,
        checkpoint: Number(r.stream_seq),
        pendingMessages: pending,
        lagEvents: Math.round(pending * perMessage),
        // Behind the head: how long ago the last applied message was stored, while more wait.
        lagSeconds: pending && r.stored_ms ? Math.max(0, (nowMs - Number(r.stored_ms)) / 1000) : 0,
        eventsPerSecond: rateOf(`${r.pipeline}/${r.partition}`, Number(r.events), nowMs),
        events: Number(r.events),
        duplicates: Number(r.duplicates),
        deadLetters: Number(r.dead_letters),
        reachedEventTime: r.max_event_ms === null ? null : new Date(Number(r.max_event_ms)).toISOString(),
        arrivedUpTo: r.stored_ms === null ? null : new Date(Number(r.stored_ms)).toISOString(),
        owner: r.owner,
        lastError: r.last_error,
        updatedAt: r.updated_at.toISOString(),
      };
    }),
  );
}

/** Dead letters held, by stage and reason code (from the stream's per-subject counts). */
export async function deadLetterCounts(nats: Nats, config: ApiConfig): Promise<Record<string, number>> {
  const info = await nats.jsm.streams.info(config.names.deadLetterStream, { subjects_filter: config.names.deadLetters() }).catch(() => undefined);
  const counts: Record<string, number> = {};
  for (const [subject, n] of Object.entries(info?.state.subjects ?? {})) {
    const [, , stage, code] = subject.split('.');
    counts[`${stage}.${code}`] = n;
  }
  return counts;
}

/** Every projection: the version it serves, all its versions, and the pipeline that feeds it. */
export async function projectionStatus(models: ReadModels, nats: Nats, config: ApiConfig, nowMs = Date.now()) {
  const [partitions, versions, deadLetters] = await Promise.all([
    partitionStatus(models, nats, config, nowMs),
    models.pool.query<{ projection: string; version: number; status: string; allowed_lateness_ms: string; cutoff: Date | null; created_at: Date; served_since: Date | null; retired_at: Date | null; drop_after: Date | null }>(
      `SELECT * FROM pulse.projection_versions ORDER BY projection, version`,
    ),
    deadLetterCounts(nats, config),
  ]);
  const live = partitions.filter((p) => p.pipeline === 'live');
  const reached = live.map((p) => p.arrivedUpTo).filter((t): t is string => t !== null);
  const reachedMs = reached.length ? Math.min(...reached.map((t) => Date.parse(t))) : null;
  const deadLetterTotal = Object.values(deadLetters).reduce((a, b) => a + b, 0);
  return {
    at: new Date(nowMs).toISOString(),
    deadLetters,
    partitions,
    projections: PROJECTIONS.map((projection) => {
      const mine = versions.rows.filter((v) => v.projection === projection);
      const served = mine.find((v) => v.status === 'live');
      const lateness = served ? Number(served.allowed_lateness_ms) : 0;
      return {
        projection,
        servedVersion: served?.version ?? null,
        versions: mine.map((v) => ({
          version: v.version,
          status: v.status,
          allowedLatenessMs: Number(v.allowed_lateness_ms),
          cutoff: v.cutoff?.toISOString() ?? null,
          createdAt: v.created_at.toISOString(),
          servedSince: v.served_since?.toISOString() ?? null,
          retiredAt: v.retired_at?.toISOString() ?? null,
          dropAfter: v.drop_after?.toISOString() ?? null,
        })),
        checkpoint: live.reduce((sum, p) => sum + p.checkpoint, 0) ? Math.max(...live.map((p) => p.checkpoint)) : 0,
        lagEvents: live.reduce((sum, p) => sum + p.lagEvents, 0),
        lagSeconds: Math.max(0, ...live.map((p) => p.lagSeconds)),
        eventsPerSecond: live.reduce((sum, p) => sum + p.eventsPerSecond, 0),
        watermark: reachedMs === null ? null : new Date(reachedMs - lateness).toISOString(),
        lastError: live.find((p) => p.lastError)?.lastError ?? null,
        deadLetters: deadLetterTotal,
      };
    }),
  };
}
