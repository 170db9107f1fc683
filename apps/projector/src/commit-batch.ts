import type { JetStreamClient } from '@nats-io/jetstream';
import { partitionOf, type PulseNames } from '@pulse/contracts';
import { publishDeadLetters, type ValidationMarks } from '@pulse/contracts/sdk';
import type { FactDelta, ProjectionChanges, ProjectionName } from '@pulse/domain';
import type pg from 'pg';
import { hourTouches, hoursOf, isRollup, mergeRollups, recomputeRollups, type DeferredRollups } from './deferred-rollups.js';
import { decodeMessages, type DecodeLimits, type Skip, type StoredMessage } from './decode.js';
import { pgArray } from './pg-array.js';
import { prepared } from './prepared.js';
import { foldEvents, foldRecorded, type Fold, type FoldGroup, type RecordedFoldInput, type VersionChanges } from './fold.js';
import type { Identities } from './identities.js';
import type { KnownSessions } from './known-sessions.js';
import { schemaOf } from './read-models.js';
import { BatchWrite } from './write-changes.js';

export interface Fence {
  owner: string;
  epoch: number;
}

export class FencedOut extends Error {
  constructor(pipeline: string, partition: number) {
    super(`another worker now owns ${pipeline} partition ${partition}; this one stops writing to it`);
    this.name = 'FencedOut';
  }
}

export interface PipelineContext {
  pipeline: string;
  /** The identities this pipeline has counted, and what it remembers of them. */
  identities: Identities;
  names: PulseNames;
  js: JetStreamClient;
  limits: DecodeLimits;
  /** The key shared with the ingestion API: messages it marked as validated are not validated again. */
  marks?: ValidationMarks;
  /** With TimescaleDB the hourly and daily roll-ups are continuous aggregates, not written here. */
  timescale: boolean;
  /** Fences per partition, when a single owner per partition must be enforced. */
  fences?: ReadonlyMap<number, Fence>;
  /**
   * 'decide': validate and de-duplicate each event, dead-letter the poison, and record what was not counted (the live pipeline).
   * 'decide-quietly': decide the same way, but leave the dead-letter stream and the records alone (a rebuild with `reverify`).
   * 'recorded': follow what the live pipeline recorded (a rebuild, over messages live has committed).
   */
  decisions: 'decide' | 'decide-quietly' | 'recorded';
  /** Folds a batch of recorded decisions elsewhere (a rebuild's threads); without it, on this thread. */
  foldRecorded?: (input: RecordedFoldInput) => Promise<Fold>;
  /** Session rows this pipeline has committed, so touches that change nothing are not written. */
  sessions?: KnownSessions;
  /**
   * The live pipeline on plain PostgreSQL: roll-ups a busy partition has not written yet. With `defer`,
   * this batch's roll-ups for live and retired versions join them instead of being written; without it,
   * this batch writes its own and all those held. Versions being built always write theirs, because a
   * recompute must never race a rebuild lane writing the same rows.
   */
  rollups?: { held: DeferredRollups; defer: boolean };
}

export type { VersionChanges };

export interface CommitResult {
  revision: number | null;
  applied: VersionChanges[];
  events: number;
  duplicates: number;
  deadLetters: number;
  skipped: number;
}

interface FeedRow {
  partition: number;
  projection: string;
  version: number;
  after_seq: string;
  cutoff_ms: string | null;
  status: string;
}

interface CheckpointRow {
  partition: number;
  stream_seq: string;
  max_event_ms: string | null;
  owner: string | null;
  epoch: string;
  rollup_hours: number[];
}

/**
 * Projects stored messages and commits the result and the new checkpoints in one transaction, so that
 * a batch is applied exactly once: messages at or below a partition's checkpoint change nothing, and a
 * batch that does not commit leaves no trace. The caller acks only after this resolves.
 */
export async function commitBatch(client: pg.ClientBase, ctx: PipelineContext, messages: readonly StoredMessage[], now: Date): Promise<CommitResult> {
  const partitions = [...new Set(messages.map((m) => partitionOfMessage(m)))];
  // Asynchronous commit: a database crash may lose the last few hundred milliseconds of commits, but
  // effects and checkpoint are lost together, and every worker restarts its consumer from the stored
  // checkpoint after losing its connection, so those messages are simply projected again.
  await client.query('BEGIN; SET LOCAL synchronous_commit TO off');
  try {
    const { byPartition, feeds } = await lockPartitions(client, ctx, partitions);
    const checkpointOf = (p: number) => byPartition.get(p)!;

    const fresh = unseen(messages, (m) => Number(byPartition.get(partitionOfMessage(m))!.stream_seq));
    const groups = await foldGroups(client, feeds);
    let fold: Fold;
    if (ctx.decisions === 'recorded') {
      const skips = fresh.length ? (await prepared<Skip>(client, `SELECT stream_seq, batch_index, reason FROM pulse.skipped_events WHERE stream_seq = ANY($1::bigint[])`, [pgArray(fresh.map((m) => m.seq))])).rows : [];
      const input = { partitions, groups, messages: fresh, skips };
      fold = ctx.foldRecorded ? await ctx.foldRecorded(input) : foldRecorded(input);
    } else {
      const { newEvents, duplicates, deadLettered } = await decideEvents(client, ctx, fresh, now);
      fold = foldEvents(partitions, groups, newEvents, { duplicates, deadLettered });
    }
    const { applied } = fold;
    const rollups = ctx.timescale ? undefined : ctx.rollups;
    const plan = rollups ? await planRollups(client, rollups, feeds, partitions, checkpointOf, applied) : undefined;

    // The checkpoints, every version's changes and the revision: one statement (BatchWrite).
    const write = new BatchWrite();
    const v = (value: string | number | null, type: string) => write.scalar(value, type);
    for (const p of partitions) {
      const tally = fold.tallies.get(p)!;
      const stored = checkpointOf(p).max_event_ms === null ? null : Number(checkpointOf(p).max_event_ms);
      const maxEventMs = tally.maxEventMs === null ? stored : stored === null ? tally.maxEventMs : Math.max(stored, tally.maxEventMs);
      const mine = fresh.filter((m) => partitionOfMessage(m) === p);
      const last = messages.filter((m) => partitionOfMessage(m) === p).reduce((a, b) => (b.seq > a.seq ? b : a));
      const rollupHours = !plan ? '' : plan.defer ? `, rollup_hours = ARRAY(SELECT DISTINCT h FROM unnest(rollup_hours || ${write.array(plan.hours, 'int[]')}) AS h ORDER BY h)` : `, rollup_hours = '{}'`;
      write.add(
        `UPDATE pulse.checkpoints SET stream_seq = greatest(stream_seq, ${v(last.seq, 'bigint')}), max_event_ms = ${v(maxEventMs, 'bigint')}, events = events + ${v(tally.events, 'bigint')},
           duplicates = duplicates + ${v(tally.duplicates, 'bigint')}, dead_letters = dead_letters + ${v(tally.deadLetters, 'bigint')}, messages = messages + ${v(mine.length, 'bigint')},
           stored_ms = greatest(stored_ms, ${v(last.storedMs, 'bigint')}), last_error = NULL, updated_at = now()${rollupHours}
         WHERE pipeline = ${v(ctx.pipeline, 'text')} AND partition = ${v(p, 'int')}`,
      );
    }
    // Versions in a fixed order, so concurrent partitions lock rows in the same order.
    applied.sort((a, b) => a.projection.localeCompare(b.projection) || a.version - b.version);
    for (const { projection, version, changes } of applied) {
      const schema = schemaOf(projection, version);
      const planned = plan?.written.get(schema) ?? changes;
      const sessions = ctx.sessions?.unwritten(schema, changes.partition, planned.sessions) ?? planned.sessions;
      write.addChanges(schema, sessions === planned.sessions ? planned : { ...planned, sessions }, { rollups: !ctx.timescale });
    }
    const [{ r }] = await write.run<{ r: string | null }>(client, applied.length ? `SELECT nextval('pulse.revision') AS r` : `SELECT NULL::bigint AS r`);
    const revision = r === null ? null : Number(r);
    await client.query('COMMIT');
    ctx.identities.committed();
    if (ctx.sessions) for (const { projection, version, changes } of applied) ctx.sessions.committed(schemaOf(projection, version), changes.partition, changes.sessions);
    if (rollups && plan) {
      if (plan.defer) for (const [schema, facts] of plan.deferred) rollups.held.hold(schema, facts);
      else rollups.held.written(now.getTime());
    }
    const total = (key: 'events' | 'duplicates' | 'deadLetters') => [...fold.tallies.values()].reduce((sum, t) => sum + t[key], 0);
    return { revision, applied, events: total('events'), duplicates: total('duplicates'), deadLetters: total('deadLetters'), skipped: messages.length - fresh.length };
  } catch (e) {
    // Whether it committed is unknown (or it may be lost with the connection): identities and session rows are no longer known.
    ctx.identities.forget();
    ctx.sessions?.forget();
    ctx.rollups?.held.forget();
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Locks the partitions' checkpoint rows (checking the fences) and reads what they feed. */
async function lockPartitions(client: pg.ClientBase, ctx: Pick<PipelineContext, 'pipeline' | 'fences'>, partitions: readonly number[]) {
  const checkpoints = (
    await prepared<CheckpointRow>(
      client,
      `SELECT partition, stream_seq, max_event_ms, owner, epoch, rollup_hours FROM pulse.checkpoints WHERE pipeline = $1 AND partition = ANY($2::int[]) ORDER BY partition FOR UPDATE`,
      [ctx.pipeline, partitions],
    )
  ).rows;
  const byPartition = new Map(checkpoints.map((c) => [c.partition, c]));
  for (const p of partitions) {
    const c = byPartition.get(p);
    if (!c) throw new Error(`no checkpoint row for ${ctx.pipeline} partition ${p}`);
    const fence = ctx.fences?.get(p);
    if (fence && (c.owner !== fence.owner || Number(c.epoch) !== fence.epoch)) throw new FencedOut(ctx.pipeline, p);
  }
  const feeds = (
    await prepared<FeedRow>(
      client,
      `SELECT f.partition, f.projection, f.version, f.after_seq, (extract(epoch FROM v.cutoff) * 1000)::bigint AS cutoff_ms, v.status
       FROM pulse.feeds f JOIN pulse.projection_versions v USING (projection, version)
       WHERE f.pipeline = $1 AND f.partition = ANY($2::int[]) AND v.status IN ('live', 'retired', 'building')
       ORDER BY f.projection, f.version`,
      [ctx.pipeline, partitions],
    )
  ).rows;
  return { byPartition, feeds };
}

/**
 * Writes the roll-ups a partition holds, and recomputes those its checkpoint lists if the worker does not
 * know what is in the store, when no batch comes to do it: at the end of a burst, and after a crash (a
 * quiet partition would otherwise serve those hours short until its next event).
 */
export async function flushRollups(client: pg.ClientBase, ctx: Pick<PipelineContext, 'pipeline' | 'fences' | 'timescale' | 'rollups'>, partition: number, now: Date): Promise<Pick<CommitResult, 'revision' | 'applied'>> {
  const rollups = ctx.rollups;
  if (ctx.timescale || !rollups) return { revision: null, applied: [] };
  await client.query('BEGIN; SET LOCAL synchronous_commit TO off');
  try {
    const { byPartition, feeds } = await lockPartitions(client, ctx, [partition]);
    const applied: VersionChanges[] = [];
    const plan = await planRollups(client, { held: rollups.held, defer: false }, feeds, [partition], (p) => byPartition.get(p)!, applied);
    const write = new BatchWrite();
    write.add(`UPDATE pulse.checkpoints SET rollup_hours = '{}' WHERE pipeline = ${write.scalar(ctx.pipeline, 'text')} AND partition = ${write.scalar(partition, 'int')}`);
    applied.sort((a, b) => a.projection.localeCompare(b.projection) || a.version - b.version);
    for (const a of applied) {
      const schema = schemaOf(a.projection, a.version);
      write.addChanges(schema, plan.written.get(schema) ?? a.changes, { rollups: true });
    }
    const [{ r }] = await write.run<{ r: string | null }>(client, applied.length ? `SELECT nextval('pulse.revision') AS r` : `SELECT NULL::bigint AS r`);
    await client.query('COMMIT');
    rollups.held.written(now.getTime());
    return { revision: r === null ? null : Number(r), applied };
  } catch (e) {
    rollups.held.forget();
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

interface RollupPlan {
  defer: boolean;
  /** Hours this batch leaves to memory (deferring). */
  hours: number[];
  /** Roll-ups this batch leaves to memory, per schema (deferring). */
  deferred: Map<string, FactDelta[]>;
  /** What each version's write holds instead of its fold's changes, where the two differ. */
  written: Map<string, ProjectionChanges>;
}

/**
 * Where this batch's roll-ups go (see `PipelineContext.rollups`). First, while the worker does not know
 * what is in the store, it recomputes the hours its checkpoint lists. Adds to `applied` the versions it
 * writes held roll-ups for without other changes, and marks the hours it writes as touched, so the
 * console reads them again.
 */
async function planRollups(
  client: pg.ClientBase,
  rollups: NonNullable<PipelineContext['rollups']>,
  feeds: readonly FeedRow[],
  partitions: readonly number[],
  checkpointOf: (p: number) => CheckpointRow,
  applied: VersionChanges[],
): Promise<RollupPlan> {
  if (partitions.length !== 1) throw new Error('roll-ups are held per partition: a batch with them must hold one partition');
  const [partition] = partitions;
  // Live and retired versions; building ones write their roll-ups with their minutes.
  const deferrable = new Map(feeds.filter((f) => f.status !== 'building').map((f) => [schemaOf(f.projection, f.version), f]));
  const entry = (schema: string): VersionChanges | undefined => {
    const f = deferrable.get(schema);
    if (!f) return undefined;
    let a = applied.find((x) => x.projection === f.projection && x.version === f.version);
    if (!a) applied.push((a = { projection: f.projection, version: f.version, changes: noChanges(f.projection, partition) }));
    return a;
  };
  const plan: RollupPlan = { defer: rollups.defer && !rollups.held.recovering, hours: [], deferred: new Map(), written: new Map() };
  if (rollups.held.recovering) {
    const hours = checkpointOf(partition).rollup_hours;
    if (hours.length) {
      const recomputed = await recomputeRollups(client, [...deferrable].map(([schema, f]) => ({ schema, projection: f.projection })), partition, hours);
      for (const [schema, touched] of recomputed) if (touched.length) entry(schema)?.changes.touched.push(...touched);
    }
  }
  // Held roll-ups of versions no longer fed (dropped since) are left behind with them.
  if (!plan.defer) for (const schema of rollups.held.schemas()) entry(schema);
  const hours = new Set<number>();
  for (const a of applied) {
    const schema = schemaOf(a.projection, a.version);
    if (!deferrable.has(schema)) continue;
    const own = a.changes.facts.filter(isRollup);
    const others = () => a.changes.facts.filter((f) => !isRollup(f));
    if (plan.defer) {
      if (!own.length) continue;
      plan.deferred.set(schema, own);
      for (const h of hoursOf(own)) hours.add(h);
      plan.written.set(schema, { ...a.changes, facts: others() });
    } else {
      const held = rollups.held.heldFor(schema);
      if (!held.length) continue;
      plan.written.set(schema, { ...a.changes, facts: [...others(), ...mergeRollups(own, held)] });
      // The console reads an hour again when one of its minutes changes; these hours changed since it last did.
      a.changes.touched.push(...hourTouches(held));
    }
  }
  plan.hours = [...hours];
  return plan;
}

function noChanges(projection: string, partition: number): ProjectionChanges {
  return { projection, partition, facts: [], corrections: [], stockMovements: [], stockLevels: [], sessions: [], touched: [] };
}

/**
 * Which stored events count, decided here: validate each (poison to the dead-letter stream), de-duplicate
 * by identity, and, for the live pipeline, record every position not counted so a rebuild can follow.
 */
async function decideEvents(client: pg.ClientBase, ctx: PipelineContext, fresh: readonly StoredMessage[], now: Date) {
  if (!fresh.length) return { newEvents: [], duplicates: [], deadLettered: [] };
  const { events, deadLetters } = decodeMessages(fresh, ctx.limits, now.toISOString(), ctx.marks);
  // Only the live pipeline keeps dead letters: a rebuild deciding again counts them, the stream already holds them.
  if (deadLetters.length && ctx.decisions === 'decide') await publishDeadLetters(ctx.js, ctx.names, deadLetters);
  const { fresh: newEvents, duplicates } = await ctx.identities.firstOccurrences(client, events);
  const deadLettered = deadLetters.map((d) => ({ seq: d.originalSequence!, partition: partitionOf(d.originalSubject!), index: d.batchIndex ?? -1, reason: d.code }));
  if (ctx.decisions === 'decide' && (duplicates.length || deadLettered.length)) {
    const skips = [...duplicates.map((d) => ({ seq: d.seq, index: d.index, reason: 'duplicate' })), ...deadLettered];
    await prepared(
      client,
      `INSERT INTO pulse.skipped_events (stream_seq, batch_index, reason) SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[]) ON CONFLICT DO NOTHING`,
      [pgArray(skips.map((s) => s.seq)), pgArray(skips.map((s) => s.index)), pgArray(skips.map((s) => s.reason))],
    );
  }
  return { newEvents, duplicates, deadLettered };
}

/** The feeds of a batch's partitions, grouped into versions projected alike. */
async function foldGroups(client: pg.ClientBase, feeds: readonly FeedRow[]): Promise<FoldGroup[]> {
  const groups: FoldGroup[] = [];
  for (const group of groupBy(feeds, (f) => `${f.partition}|${f.after_seq}|${f.cutoff_ms}`).values()) {
    const versions = group.map((f) => ({ name: f.projection as ProjectionName, version: f.version }));
    for (const [allowedLatenessMs, members] of await latenessOf(client, versions)) {
      groups.push({ partition: group[0].partition, afterSeq: Number(group[0].after_seq), cutoffMs: group[0].cutoff_ms === null ? null : Number(group[0].cutoff_ms), allowedLatenessMs, members });
    }
  }
  return groups;
}

const versionLateness = new Map<string, number>();

/** Allowed lateness is fixed per projection version (changing it changes history, so it takes a rebuild). */
async function latenessOf(client: pg.ClientBase, versions: Array<{ name: ProjectionName; version: number }>): Promise<Map<number, Array<{ name: ProjectionName; version: number }>>> {
  const missing = versions.filter((v) => !versionLateness.has(`${v.name}@${v.version}`));
  if (missing.length) {
    const { rows } = await client.query<{ projection: string; version: number; allowed_lateness_ms: string }>(
      `SELECT projection, version, allowed_lateness_ms FROM pulse.projection_versions WHERE (projection, version) IN (SELECT * FROM unnest($1::text[], $2::int[]))`,
      [missing.map((v) => v.name), missing.map((v) => v.version)],
    );
    for (const r of rows) versionLateness.set(`${r.projection}@${r.version}`, Number(r.allowed_lateness_ms));
  }
  const grouped = new Map<number, Array<{ name: ProjectionName; version: number }>>();
  for (const v of versions) {
    const lateness = versionLateness.get(`${v.name}@${v.version}`) ?? 0;
    const list = grouped.get(lateness);
    if (list) list.push(v);
    else grouped.set(lateness, [v]);
  }
  return grouped;
}

/**
 * The messages above their partition's checkpoint, each once. JetStream redelivers a message whose ack
 * wait passed while it waited in a worker's queue, so a batch can hold it twice; counting its events
 * again as duplicates would also record their positions as skipped, and a rebuild following those
 * records would then leave out events the live pipeline counted.
 */
function unseen(messages: readonly StoredMessage[], checkpointOf: (m: StoredMessage) => number): StoredMessage[] {
  const taken = new Set<number>();
  const fresh: StoredMessage[] = [];
  for (const m of messages) {
    if (m.seq <= checkpointOf(m) || taken.has(m.seq)) continue;
    taken.add(m.seq);
    fresh.push(m);
  }
  return fresh;
}

function partitionOfMessage(m: StoredMessage): number {
  return partitionOf(m.subject);
}

function groupBy<T, K>(items: readonly T[], key: (t: T) => K): Map<K, T[]> {
  const map = new Map<K, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = map.get(k);
    if (list) list.push(item);
    else map.set(k, [item]);
  }
  return map;
}
