// The system under test: the projector and the API as real child processes over one NATS root and
// one database of the benchmark's own, and everything needed to remove them again.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function withDatabase(url, database) {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}

/** Polls until `check` returns something other than undefined; fails after `timeoutMs` saying what it waited for. */
export async function eventually(check, timeoutMs, what, intervalMs = 100) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/**
 * Starts `node apps/<app>/dist/main.js` with this environment; its output goes to a log file under
 * bench/results/logs so a failed run can be read afterwards.
 */
export function spawnApp(repoRoot, app, env, logName, nodeArgs = []) {
  const logs = join(repoRoot, 'bench', 'results', 'logs');
  mkdirSync(logs, { recursive: true });
  const log = createWriteStream(join(logs, `${logName}.log`));
  const child = spawn(process.execPath, [...nodeArgs, join(repoRoot, 'apps', app, 'dist', 'main.js')], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (d) => {
    log.write(d);
    tail = (tail + d.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.on('exit', () => log.end());
  return Object.assign(child, { logName, tail: () => tail });
}

export function exited(child) {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}

/** SIGTERM (the app's shutdown hooks close NATS and the pool), SIGKILL if it has not gone after `graceMs`. */
export async function stopChild(child, graceMs = 5000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const done = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

/** Fails fast with the app's last output when it exits while we wait for it. */
function whileAlive(child, promise) {
  return Promise.race([
    promise,
    exited(child).then(() => {
      throw new Error(`${child.logName} exited (${child.exitCode ?? child.signalCode}) while starting:\n${child.tail()}`);
    }),
  ]);
}

/** Resolves once the projector has migrated its database and created the served versions. */
export function projectorReady(child, databaseUrl, timeoutMs = 60_000) {
  return whileAlive(
    child,
    eventually(
      async () => {
        const c = new pg.Client({ connectionString: databaseUrl });
        c.on('error', () => undefined);
        try {
          await c.connect();
          const { rows } = await c.query(`SELECT count(*)::int AS n FROM pulse.checkpoints`);
          return rows[0].n > 0 ? true : undefined;
        } finally {
          await c.end().catch(() => undefined);
        }
      },
      timeoutMs,
      `${child.logName} to migrate ${new URL(databaseUrl).pathname.slice(1)} and create its checkpoints`,
      200,
    ),
  );
}

export function apiReady(child, apiUrl, timeoutMs = 60_000) {
  return whileAlive(
    child,
    eventually(
      async () => {
        const r = await fetch(`${apiUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await r.arrayBuffer();
        return r.status === 200 ? true : undefined;
      },
      timeoutMs,
      `GET ${apiUrl}/health/ready to answer 200`,
      200,
    ),
  );
}

export async function dropDatabase(adminUrl, name) {
  const c = new pg.Client({ connectionString: adminUrl });
  c.on('error', () => undefined);
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Work to undo, run in reverse order once, whatever ends the run: success, an error, or Ctrl-C.
 * Each step is attempted even when an earlier one fails.
 */
export class Cleanup {
  constructor(log) {
    this.steps = [];
    this.log = log;
  }

  add(what, fn) {
    this.steps.push({ what, fn });
  }

  /** Runs once; a second call (Ctrl-C during cleanup, say) waits for the first. */
  run() {
    this.running ??= this.runSteps();
    return this.running;
  }

  async runSteps() {
    for (const { what, fn } of this.steps.reverse()) {
      try {
        await Promise.race([fn(), sleep(15_000).then(() => { throw new Error('timed out'); })]);
      } catch (e) {
        this.log(`cleanup: ${what} failed: ${e.message}`);
      }
    }
  }
}
