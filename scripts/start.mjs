// `npm start`: the whole of Pulse with demo traffic, on one machine.
// Uses NATS_URL / DATABASE_URL when set; otherwise starts its own nats-server and PostgreSQL (data in
// .pulse/, ports 14222 and 15432). Builds what is stale, migrates, starts projector, API, console and
// the traffic simulator, and prints the console URL and sign-in tokens. Ctrl-C stops all of it.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureServices, log, reachable, stateDir, stopOwnServices } from './services.mjs';
import { API_NODE_FLAGS, PROJECTOR_NODE_FLAGS } from './node-flags.mjs';

const root = new URL('..', import.meta.url).pathname;
const apiPort = Number(process.env.PULSE_API_PORT ?? 3000);
const webPort = Number(process.env.PULSE_WEB_PORT ?? 4200);
const demoRate = process.env.PULSE_DEMO_RATE ?? '300';

function run(title, cmd, args, env = process.env) {
  log(title);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) {
    log(`failed: ${title}`);
    stopOwnServices();
    process.exit(r.status ?? 1);
  }
}

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

if (!existsSync(join(root, 'node_modules/.package-lock.json'))) run('installing dependencies (npm ci)', 'npm', ['ci', '--no-audit', '--no-fund']);
for (const port of [apiPort, webPort]) {
  if (await reachable('127.0.0.1', port)) {
    log(`port ${port} is taken; set PULSE_API_PORT / PULSE_WEB_PORT to free ones`);
    process.exit(1);
  }
}

run('building the services (tsc -b)', 'npx', ['tsc', '-b', 'tsconfig.build.json']);
const webIndex = join(root, 'apps/web/dist/browser/index.html');
if (!existsSync(webIndex) || newestMtime(join(root, 'apps/web/src')) > statSync(webIndex).mtimeMs) run('building the console (ng build)', 'npm', ['run', 'build', '-w', '@pulse/web']);

const services = await ensureServices('start');
const databaseUrl = process.env.DATABASE_URL ?? services.databaseUrl.replace(/\/postgres$/, '/pulse');

// Sign-in tokens for the demo, kept across restarts so a signed-in browser stays signed in.
let tokens = process.env.PULSE_TOKENS;
if (!tokens) {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'tokens.json');
  if (!existsSync(file)) {
    const make = () => randomBytes(18).toString('base64url');
    writeFileSync(file, JSON.stringify([{ name: 'admin', role: 'admin', token: make() }, { name: 'operator', role: 'operator', token: make() }, { name: 'demo-shop', role: 'producer', token: make() }], null, 2), { mode: 0o600 });
  }
  tokens = JSON.parse(readFileSync(file, 'utf8')).map((t) => `${t.name}:${t.role}:${t.token}`).join(',');
}
const tokenOf = (role) => tokens.split(',').map((t) => t.split(':')).find(([, r]) => r === role)?.[2];

// The key the API marks validated messages with so the projector need not validate them again (ADR 0010).
let validationKey = process.env.PULSE_VALIDATION_KEY;
if (validationKey === undefined) {
  mkdirSync(stateDir, { recursive: true });
  const file = join(stateDir, 'validation-key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600 });
  validationKey = readFileSync(file, 'utf8').trim();
}

const env = { ...process.env, NATS_URL: services.natsUrl, DATABASE_URL: databaseUrl, PULSE_TOKENS: tokens, PULSE_VALIDATION_KEY: validationKey };
run('migrating the database', 'node', ['apps/projector/dist/migrate-cli.js'], env);

const children = [];
/** Set once the demo traffic runs: stopped before the rest. */
let simulator;
function start(name, args, extraEnv = {}) {
  const child = spawn('node', args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  const prefix = (stream, out) => {
    let rest = '';
    stream.on('data', (chunk) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop();
      for (const line of lines) out.write(`[${name}] ${line}\n`);
    });
  };
  prefix(child.stdout, process.stdout);
  prefix(child.stderr, process.stderr);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${signal ?? code}); stopping everything`);
      shutdown(1);
    }
  });
  children.push(child);
  return child;
}

/** Asks a child to stop, waits up to `ms` for it, then kills it: no process outlives `npm start`. */
async function stopChild(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

let stopping = false;
async function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  log('stopping');
  // The simulator first, while the API still answers: it delivers the late events it holds back
  // (after a Ctrl-C the terminal has signalled every process already, and this only reaps them).
  if (simulator) await stopChild(simulator, 10_000);
  await Promise.all(children.filter((c) => c !== simulator).map((c) => stopChild(c, 5_000)));
  stopOwnServices();
  process.exit(code);
}
process.on('SIGINT', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));

start('projector', [...PROJECTOR_NODE_FLAGS, 'apps/projector/dist/main.js']);
start('api', [...API_NODE_FLAGS, 'apps/api/dist/main.js'], { PORT: String(apiPort) });
start('web', ['apps/web/serve.mjs'], { PORT: String(webPort), PULSE_API_URL: `http://127.0.0.1:${apiPort}` });

// Traffic through the real ingestion path once the API answers.
for (let i = 0; i < 100 && !(await reachable('127.0.0.1', apiPort)); i++) await new Promise((r) => setTimeout(r, 200));
simulator = start('simulator', ['apps/simulator/dist/cli.js', '--via', 'http', '--api', `http://127.0.0.1:${apiPort}`, '--token', tokenOf('producer'), '--rate', demoRate, '--incidents', 'demo', '--late', '0.02', '--duplicate', '0.01', '--malformed', '0.002', '--out-of-order', '0.05', '--late-max', '900']);

log('');
log(`Pulse is running. Console: http://127.0.0.1:${webPort}   API: http://127.0.0.1:${apiPort}/api/docs`);
log(`Sign in with  admin: ${tokenOf('admin')}   operator: ${tokenOf('operator')}   (producer: ${tokenOf('producer')})`);
log('Ctrl-C stops everything.');
