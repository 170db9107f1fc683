import { PulseNames } from '@pulse/contracts';

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
  streams: { maxAgeSeconds: number; duplicateWindowSeconds: number };
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
    names: attempt(() => new PulseNames(env.PULSE_ROOT ?? 'pulse', int(env, 'PULSE_PARTITIONS', 4, 1))),
    maxBodyBytes: attempt(() => int(env, 'PULSE_MAX_BODY_BYTES', 4 * 1024 * 1024, 1024)),
    maxBatchEvents: attempt(() => int(env, 'PULSE_MAX_BATCH_EVENTS', 10_000, 1)),
    streams: {
      maxAgeSeconds: attempt(() => int(env, 'PULSE_EVENTS_MAX_AGE_SECONDS', 30 * 24 * 3600, 60)),
      duplicateWindowSeconds: attempt(() => int(env, 'PULSE_DUPLICATE_WINDOW_SECONDS', 600, 1)),
    },
  };
  if (problems.length) throw new Error(`invalid API configuration:\n  ${problems.join('\n  ')}`);
  return config as ApiConfig;
}

export const API_CONFIG = Symbol('ApiConfig');
