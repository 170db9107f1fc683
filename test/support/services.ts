import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { PulseNames } from '@pulse/contracts';

// Real services for integration tests: scripts/test.mjs makes sure both are reachable and exports
// their URLs. Each test gets its own NATS root (own streams and subjects) and its own database.

export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function uniqueToken(prefix = 't'): string {
  return `${prefix}${randomBytes(5).toString('hex')}`;
}

/** A NATS root of this test's own; `dispose` deletes its streams. */
export async function isolatedNats(partitions = 2): Promise<{ names: PulseNames; nc: NatsConnection; dispose: () => Promise<void> }> {
  const names = new PulseNames(uniqueToken('t'), partitions);
  const nc = await connect({ servers: NATS_URL, noAsyncTraces: true });
  return {
    names,
    nc,
    dispose: async () => {
      const jsm = await jetstreamManager(nc);
      for (const stream of [names.eventsStream, names.deadLetterStream]) await jsm.streams.delete(stream).catch(() => undefined);
      await nc.drain();
    },
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A new empty database of this test's own; `dispose` drops it. */
export async function isolatedDatabase(): Promise<{ url: string; name: string; dispose: () => Promise<void> }> {
  const name = uniqueToken('pulse_t');
  const admin = new pg.Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    url: withDatabase(DATABASE_URL, name),
    name,
    dispose: async () => {
      const c = new pg.Client({ connectionString: DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
