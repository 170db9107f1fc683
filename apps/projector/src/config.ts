import { DEFAULT_PARTITIONS, PulseNames } from '@pulse/contracts';
import { ValidationMarks } from '@pulse/contracts/sdk';

/** Everything the projector reads from its environment, read and checked once at start-up. */
export interface ProjectorConfig {
  natsUrl: string;
  databaseUrl: string;
  names: PulseNames;
  /** With PULSE_VALIDATION_KEY, the key the ingestion API marks validated messages with: those are not validated again. */
  validationMarks?: ValidationMarks;
  /**
   * Partitions this process goes for first. Every process can own any partition (so a dead process's
   * partitions are taken over), but the others wait `takeoverGraceMs` before competing for these.
   * Empty: all partitions are preferred.
   */
  preferredPartitions: number[];
  takeoverGraceMs: number;
  /** Prefix of durable consumer names, so two deployments (say staging beside production) can read one stream. */
  consumerPrefix: string;
  /** How far behind a partition's newest event time an event may arrive before its bucket is final. */
  allowedLatenessMs: number;
  /** Messages per batch transaction (each message carries a batch of events). */
  maxBatchMessages: number;
  /** Events per batch transaction; the batch is cut at the message that crosses it. */
  maxBatchEvents: number;
  /**
   * Events per rebuild batch: a rebuild folds them a part at a time, so this bounds only their stored
   * bytes and the rows they change, and longer batches write each hourly, daily and session row less often.
   */
  rebuildBatchEvents: number;
  /** Worker threads that parse and fold a rebuild's batches (0: on the event loop). */
  rebuildFoldThreads: number;
  /**
   * How long a partition that was idle waits after its first new message before taking a batch, so
   * that messages arriving together commit together (a commit costs PostgreSQL the same for 200 events as for 2,000).
   */
  batchLingerMs: number;
  /**
   * The most of its time a busy partition spends committing: after a batch that took t ms, the next
   * starts no sooner than t / share after it, and what arrives meanwhile joins it (a full batch starts
   * at once). A batch's PostgreSQL cost is largely per row written, and its hourly, daily and session
   * rows are nearly the same for 1,000 events as for 5,000; an idle partition is not held back, and a
   * quick commit makes a short wait. 1 turns pacing off.
   */
  batchDutyShare: number;
  /**
   * On plain PostgreSQL, how long a busy partition may hold its hourly and daily roll-ups back, writing
   * them summed over its batches (they were about half the rows each batch upserted). Hours and days
   * follow their minutes by at most this; 0 writes them in every batch, as TimescaleDB needs no such thing.
   */
  rollupDelayMs: number;
  /** Messages read ahead of the batch being written (the consumer's max_ack_pending). */
  readAheadMessages: number;
  /** Bytes read ahead per partition: reading pauses above it. With the message cap, this bounds memory. */
  readAheadBytes: number;
  /** JetStream redelivers a message not acked within this time (after a crash, for example). */
  ackWaitMs: number;
  /** How long identities are remembered for de-duplication, in days of event time. */
  dedupHorizonDays: number;
  /** Events dated further ahead of their arrival than this are dead-lettered (a producer clock gone wrong). */
  maxFutureSkewMs: number;
  /** Change notifications are coalesced over this interval. */
  notifyIntervalMs: number;
  /**
   * Database connections: one per owned partition, a few for notifications and housekeeping, and four
   * per running rebuild (its own, two lanes, the swap); several projections may rebuild at once.
   */
  poolSize: number;
  timescale: 'auto' | 'off';
  /** Stream settings the projector provisions with (the API provisions the same). */
  streams: { maxAgeSeconds: number; duplicateWindowSeconds: number; replicas: number };
  /** A version replaced by a rebuild stays (and is kept up to date) this long, for rollback. */
  retiredKeepSeconds: number;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ProjectorConfig {
  const problems: string[] = [];
  const read = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      problems.push((e as Error).message);
      return undefined as T;
    }
  };
  const timescale = env.PULSE_TIMESCALE ?? 'auto';
  if (env.PULSE_CONSUMER_PREFIX && !/^[A-Za-z0-9_-]+$/.test(env.PULSE_CONSUMER_PREFIX)) problems.push('PULSE_CONSUMER_PREFIX may hold letters, digits, _ and - only');
  if (timescale !== 'auto' && timescale !== 'off') problems.push(`PULSE_TIMESCALE must be auto or off, got "${timescale}"`);
  const config: ProjectorConfig = {
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse',
    names: read(() => new PulseNames(env.PULSE_ROOT ?? 'pulse', int(env, 'PULSE_PARTITIONS', DEFAULT_PARTITIONS, 1))),
    consumerPrefix: env.PULSE_CONSUMER_PREFIX ?? '',
    validationMarks: read(() => (env.PULSE_VALIDATION_KEY ? new ValidationMarks(env.PULSE_VALIDATION_KEY) : undefined)),
    preferredPartitions: read(() => {
      const raw = env.PULSE_PREFERRED_PARTITIONS ?? '';
      if (!raw.trim()) return [];
      const list = raw.split(',').map((p) => Number(p.trim()));
      if (list.some((p) => !Number.isInteger(p) || p < 0)) throw new Error(`PULSE_PREFERRED_PARTITIONS must list partition numbers, got "${raw}"`);
      return list;
    }),
    takeoverGraceMs: read(() => int(env, 'PULSE_TAKEOVER_GRACE_MS', 5000)),
    allowedLatenessMs: read(() => int(env, 'PULSE_ALLOWED_LATENESS_MS', 10_000)),
    maxBatchMessages: read(() => int(env, 'PULSE_BATCH_MAX_MESSAGES', 5000, 1)),
    maxBatchEvents: read(() => int(env, 'PULSE_BATCH_MAX_EVENTS', 20_000, 1)),
    rebuildBatchEvents: read(() => int(env, 'PULSE_REBUILD_BATCH_MAX_EVENTS', 100_000, 1)),
    rebuildFoldThreads: read(() => int(env, 'PULSE_REBUILD_FOLD_THREADS', 1, 0)),
    batchLingerMs: read(() => int(env, 'PULSE_BATCH_LINGER_MS', 25, 0)),
    batchDutyShare: read(() => {
      const share = Number(env.PULSE_BATCH_DUTY_SHARE ?? '0.5');
      if (!(share > 0 && share <= 1)) throw new Error(`PULSE_BATCH_DUTY_SHARE must be a number above 0 and at most 1, got "${env.PULSE_BATCH_DUTY_SHARE}"`);
      return share;
    }),
    rollupDelayMs: read(() => int(env, 'PULSE_ROLLUP_DELAY_MS', 1000)),
    readAheadMessages: read(() => int(env, 'PULSE_READ_AHEAD_MESSAGES', 5000, 1)),
    readAheadBytes: read(() => int(env, 'PULSE_READ_AHEAD_BYTES', 32 * 1024 * 1024, 1024 * 1024)),
    ackWaitMs: read(() => int(env, 'PULSE_ACK_WAIT_MS', 15_000, 1000)),
    dedupHorizonDays: read(() => int(env, 'PULSE_DEDUP_HORIZON_DAYS', 7, 1)),
    maxFutureSkewMs: read(() => int(env, 'PULSE_MAX_FUTURE_SKEW_MS', 5 * 60_000)),
    notifyIntervalMs: read(() => int(env, 'PULSE_NOTIFY_INTERVAL_MS', 50, 10)),
    poolSize: read(() => int(env, 'PULSE_DB_POOL_SIZE', 24, 2)),
    timescale: timescale as 'auto' | 'off',
    retiredKeepSeconds: read(() => int(env, 'PULSE_RETIRED_KEEP_SECONDS', 3600, 0)),
    streams: {
      maxAgeSeconds: read(() => int(env, 'PULSE_EVENTS_MAX_AGE_SECONDS', 30 * 24 * 3600, 60)),
      duplicateWindowSeconds: read(() => int(env, 'PULSE_DUPLICATE_WINDOW_SECONDS', 600, 1)),
      replicas: read(() => int(env, 'PULSE_STREAM_REPLICAS', 1, 1)),
    },
  };
  if (problems.length) throw new Error(`invalid projector configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
