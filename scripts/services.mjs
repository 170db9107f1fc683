// Finds or starts the two services Pulse needs: nats-server with JetStream, and PostgreSQL.
// Only Node built-ins here: this runs before `npm ci` may have finished.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';

const root = resolve(new URL('..', import.meta.url).pathname);
export const stateDir = join(root, '.pulse');
const isRoot = process.getuid?.() === 0;

export function log(message) {
  console.log(`[pulse] ${message}`);
}

export function reachable(host, port, timeoutMs = 800) {
  return new Promise((done) => {
    const socket = connect({ host, port });
    const finish = (ok) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

async function waitFor(host, port, what, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await reachable(host, port)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not start listening on ${host}:${port} within ${timeoutMs / 1000}s`);
}

function hostPort(url, defaultPort) {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: Number(u.port || defaultPort) };
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Installs Debian packages when we may (root with apt-get); returns false when we cannot. */
export function aptInstall(...packages) {
  if (!isRoot || !which('apt-get')) return false;
  log(`installing ${packages.join(', ')} with apt-get`);
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit' });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return r.status === 0;
}

function natsBinary() {
  const found = which('nats-server') ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : undefined);
  if (found) return found;
  if (aptInstall('nats-server')) return which('nats-server') ?? '/usr/sbin/nats-server';
  throw new Error('nats-server is not installed and could not be installed; install it (apt-get install nats-server) or set NATS_URL');
}

function postgresBin() {
  const find = () => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return undefined;
    const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
    return versions.length ? join(base, versions[0], 'bin') : undefined;
  };
  const found = find();
  if (found) return found;
  if (aptInstall('postgresql')) return find();
  throw new Error('PostgreSQL is not installed and could not be installed; install it (apt-get install postgresql) or set DATABASE_URL');
}

/** Runs a PostgreSQL binary as the postgres user when we are root: initdb and postgres refuse to run as root. */
function asPostgres(cmd, args) {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

const children = [];

function own(child, name) {
  children.push({ child, name });
  child.on('exit', (code, signal) => {
    if (!stopping) log(`${name} exited (${signal ?? code})`);
  });
  return child;
}

let stopping = false;
const ownServices = { nats: false, postgres: false };

/**
 * Stops what ensureServices started (or found left over from an earlier run in .pulse/): PostgreSQL
 * through pg_ctl (runuser does not pass signals on), nats-server through its pid file.
 */
export function stopOwnServices() {
  stopping = true;
  for (const { child } of children.reverse()) if (child.exitCode === null) child.kill('SIGINT');
  if (ownServices.postgres) {
    try {
      const [cmd, args] = asPostgres(join(postgresBin(), 'pg_ctl'), ['stop', '-D', join(stateDir, 'pg'), '-m', 'fast', '-w']);
      execFileSync(cmd, args, { stdio: 'ignore' });
    } catch {
      // already stopped
    }
  }
  if (ownServices.nats && existsSync(join(stateDir, 'nats.pid'))) {
    try {
      process.kill(Number(readFileSync(join(stateDir, 'nats.pid'), 'utf8')), 'SIGTERM');
    } catch {
      // already stopped
    }
  }
}

async function startOwnNats(port) {
  const dir = join(stateDir, 'nats');
  mkdirSync(dir, { recursive: true });
  const bin = natsBinary();
  log(`starting own nats-server on 127.0.0.1:${port} (data in .pulse/nats)`);
  own(spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '-l', join(stateDir, 'nats.log'), '-P', join(stateDir, 'nats.pid')], { stdio: 'ignore' }), 'nats-server');
  await waitFor('127.0.0.1', port, 'nats-server');
}

async function startOwnPostgres(port) {
  const bin = postgresBin();
  const dir = join(stateDir, 'pg');
  mkdirSync(stateDir, { recursive: true });
  if (isRoot) chmodSync(stateDir, 0o777);
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    log(`initialising own PostgreSQL in .pulse/pg`);
    mkdirSync(dir, { recursive: true });
    if (isRoot) execFileSync('chown', ['postgres:postgres', dir]);
    const [cmd, args] = asPostgres(join(bin, 'initdb'), ['-D', dir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  log(`starting own PostgreSQL on 127.0.0.1:${port}`);
  const [cmd, args] = asPostgres(join(bin, 'postgres'), ['-D', dir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'fsync=off', '-c', 'max_connections=200']);
  own(spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] }), 'postgres');
  await waitFor('127.0.0.1', port, 'PostgreSQL');
}

function tryMachineService(name, command) {
  if (!isRoot) return false;
  log(`${name} is not running; starting the machine's ${name}`);
  return spawnSync('sh', ['-c', command], { stdio: 'inherit' }).status === 0;
}

/**
 * mode "test": use NATS_URL/DATABASE_URL, else the machine's services on 4222/5432, starting them if
 * they are installed but stopped, else own ones.  mode "start": use NATS_URL/DATABASE_URL, else always
 * own ones on private ports (data under .pulse/), so the demo never touches the machine's services.
 */
export async function ensureServices(mode) {
  let natsUrl = process.env.NATS_URL;
  let databaseUrl = process.env.DATABASE_URL;
  if (natsUrl) {
    const { host, port } = hostPort(natsUrl, 4222);
    if (!(await reachable(host, port))) throw new Error(`NATS_URL=${natsUrl} is set but nothing answers there`);
  } else if (mode === 'test' && (await reachable('127.0.0.1', 4222))) {
    natsUrl = 'nats://127.0.0.1:4222';
  } else if (
    mode === 'test' &&
    existsSync('/usr/sbin/nats-server') &&
    tryMachineService('NATS', 'start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log') &&
    (await waitFor('127.0.0.1', 4222, 'nats-server', 10_000).then(() => true, () => false))
  ) {
    natsUrl = 'nats://127.0.0.1:4222';
  } else {
    const port = Number(process.env.PULSE_NATS_PORT ?? 14222);
    if (!(await reachable('127.0.0.1', port))) await startOwnNats(port);
    ownServices.nats = true;
    natsUrl = `nats://127.0.0.1:${port}`;
  }

  if (databaseUrl) {
    const { host, port } = hostPort(databaseUrl, 5432);
    if (!(await reachable(host, port))) throw new Error(`DATABASE_URL is set but nothing answers at ${host}:${port}`);
  } else if (mode === 'test' && (await reachable('127.0.0.1', 5432))) {
    databaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
  } else if (
    mode === 'test' &&
    which('pg_ctlcluster') &&
    tryMachineService('PostgreSQL', 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql | sort -n | tail -1) main start') &&
    (await waitFor('127.0.0.1', 5432, 'PostgreSQL', 20_000).then(() => true, () => false))
  ) {
    databaseUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
  } else {
    const port = Number(process.env.PULSE_PG_PORT ?? 15432);
    if (!(await reachable('127.0.0.1', port))) await startOwnPostgres(port);
    ownServices.postgres = true;
    databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  }
  return { natsUrl, databaseUrl };
}
