import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './services.js';

/**
 * A PostgreSQL server of the test's own, from the machine's binaries, so a test can stop and restart
 * it without disturbing other tests that share the machine's server.
 */
export async function privatePostgres(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void>; destroy(): Promise<void> }> {
  const base = '/usr/lib/postgresql';
  const version = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))[0];
  const bin = join(base, version, 'bin');
  const dir = mkdtempSync(join(tmpdir(), 'pulse-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const run = (cmd: string, args: string[]) => (asRoot ? (['runuser', ['-u', 'postgres', '--', cmd, ...args]] as const) : ([cmd, args] as const));
  const [initCmd, initArgs] = run(join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
  execFileSync(initCmd, [...initArgs], { stdio: 'ignore' });
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const start = async () => {
    const [cmd, args] = run(join(bin, 'pg_ctl'), ['start', '-D', dir, '-w', '-l', join(dir, 'server.log'), '-o', `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off`]);
    execFileSync(cmd, [...args], { stdio: 'ignore' });
    const pg = await import('pg');
    await eventually(async () => {
      const c = new pg.default.Client({ connectionString: url });
      try {
        await c.connect();
        return true;
      } finally {
        await c.end().catch(() => undefined);
      }
    }, 20_000, 'private PostgreSQL to accept connections');
  };
  const stop = async () => {
    // Fast shutdown: every connection is cut, as when the database crashes or fails over.
    const [cmd, args] = run(join(bin, 'pg_ctl'), ['stop', '-D', dir, '-m', 'fast', '-w']);
    execFileSync(cmd, [...args], { stdio: 'ignore' });
  };
  await start();
  return {
    url,
    start,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.once('error', reject);
  });
}
