import { readFileSync } from 'node:fs';
import { DEFAULT_PARTITIONS, PulseNames } from '@pulse/contracts';
import { ValidationMarks } from '@pulse/contracts/sdk';

export type Role = 'producer' | 'operator' | 'admin';
export const ROLES: readonly Role[] = ['producer', 'operator', 'admin'];

export interface ApiToken {
  name: string;
  role: Role;
  token: string;
}

/** Everything the API reads from its environment, read and checked once at start-up. */
export interface ApiConfig {
  port: number;
  host: string;
  natsUrl: string;
  databaseUrl: string;
  names: PulseNames;
  /** Largest request body accepted by POST /api/v1/events. */
  maxBodyBytes: number;
  /** Events per request; larger batches get a 413 telling the producer to split. */
  maxBatchEvents: number;
  streams: { maxAgeSeconds: number; duplicateWindowSeconds: number; replicas: number };
  tokens: ApiToken[];
  /** Sustained events per second per producer token, and the burst above it. */
  ingestRate: { perSecond: number; burst: number };
  /** Shortest interval between two pushes of one live subscription. */
  pushIntervalMs: number;
  /** Every read query is cancelled after this long. */
  statementTimeoutMs: number;
  databasePoolSize: number;
  /** Durable consumer name prefix of the projector this API reports on (PULSE_CONSUMER_PREFIX). */
  consumerPrefix: string;
  /** Projector lag beyond which readiness reports "degraded". */
  readyMaxLagSeconds: number;
  /** The shop's own day and currency: "today" starts at its midnight, money tiles use its currency. */
  shop: { timeZone: string; currency: string };
  /** With PULSE_VALIDATION_KEY, shared with the projectors: stored messages carry a mark of the validation done here. */
  validationMarks?: ValidationMarks;
}

/**
 * Tokens come from PULSE_TOKENS ("name:role:token,...") or PULSE_TOKENS_FILE (a JSON array of
 * { name, role, token }). There is no default: an API nobody can call, or anybody can, is a mistake.
 */
function parseTokens(env: NodeJS.ProcessEnv): ApiToken[] {
  let tokens: ApiToken[];
  if (env.PULSE_TOKENS_FILE) tokens = JSON.parse(readFileSync(env.PULSE_TOKENS_FILE, 'utf8')) as ApiToken[];
  else if (env.PULSE_TOKENS) {
    tokens = env.PULSE_TOKENS.split(',').map((entry) => {
      const [name, role, token] = entry.trim().split(':');
      return { name, role: role as Role, token };
    });
  } else throw new Error('no API tokens: set PULSE_TOKENS="name:role:token,..." or PULSE_TOKENS_FILE (roles: producer, operator, admin)');
  for (const t of tokens) {
    if (!t.name || !ROLES.includes(t.role)) throw new Error(`token "${t.name}" needs a name and a role of ${ROLES.join(', ')}`);
    if (!t.token || t.token.length < 16) throw new Error(`token "${t.name}" must be at least 16 characters`);
  }
  return tokens;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  const problems: string[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      problems.push((e as Error).message);
      return undefined;
    }
  };
  const config = {
    port: attempt(() => int(env, 'PORT', 3000)),
    host: env.HOST ?? '127.0.0.1',
    natsUrl: env.NATS_URL ?? 'nats://127.0.0.1:4222',
    databaseUrl: env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/pulse',
    names: attempt(() => new PulseNames(env.PULSE_ROOT ?? 'pulse', int(env, 'PULSE_PARTITIONS', DEFAULT_PARTITIONS, 1))),
    maxBodyBytes: attempt(() => int(env, 'PULSE_MAX_BODY_BYTES', 4 * 1024 * 1024, 1024)),
    maxBatchEvents: attempt(() => int(env, 'PULSE_MAX_BATCH_EVENTS', 10_000, 1)),
    streams: {
      maxAgeSeconds: attempt(() => int(env, 'PULSE_EVENTS_MAX_AGE_SECONDS', 30 * 24 * 3600, 60)),
      duplicateWindowSeconds: attempt(() => int(env, 'PULSE_DUPLICATE_WINDOW_SECONDS', 600, 1)),
      replicas: attempt(() => int(env, 'PULSE_STREAM_REPLICAS', 1, 1)),
    },
    tokens: attempt(() => parseTokens(env)),
    ingestRate: { perSecond: attempt(() => int(env, 'PULSE_INGEST_EVENTS_PER_SECOND', 200_000, 1)), burst: attempt(() => int(env, 'PULSE_INGEST_BURST', 400_000, 1)) },
    pushIntervalMs: attempt(() => int(env, 'PULSE_PUSH_INTERVAL_MS', 100, 10)),
    statementTimeoutMs: attempt(() => int(env, 'PULSE_STATEMENT_TIMEOUT_MS', 5000, 100)),
    databasePoolSize: attempt(() => int(env, 'PULSE_API_DB_POOL_SIZE', 10, 1)),
    consumerPrefix: env.PULSE_CONSUMER_PREFIX ?? '',
    readyMaxLagSeconds: attempt(() => int(env, 'PULSE_READY_MAX_LAG_SECONDS', 60, 1)),
    validationMarks: attempt(() => (env.PULSE_VALIDATION_KEY ? new ValidationMarks(env.PULSE_VALIDATION_KEY) : undefined)),
    shop: {
      timeZone: attempt(() => {
        const tz = env.PULSE_SHOP_TIMEZONE ?? 'UTC';
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return tz;
      }),
      currency: attempt(() => {
        const c = env.PULSE_SHOP_CURRENCY ?? 'EUR';
        if (!/^[A-Z]{3}$/.test(c)) throw new Error(`PULSE_SHOP_CURRENCY must be an ISO 4217 code, got "${c}"`);
        return c;
      }),
    },
  };
  if (problems.length) throw new Error(`invalid API configuration:\n  ${problems.join('\n  ')}`);
  return config as ApiConfig;
}

export const API_CONFIG = Symbol('ApiConfig');
