// `npm test`: every check and test, against real nats-server and PostgreSQL (started if none is reachable).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ensureServices, log, stopOwnServices } from './services.mjs';

const root = new URL('..', import.meta.url).pathname;
const only = process.argv.slice(2);

function run(title, cmd, args, env = {}) {
  log(title);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) {
    log(`FAILED: ${title} (exit ${r.status ?? r.signal})`);
    stopOwnServices();
    process.exit(r.status ?? 1);
  }
  log(`${title}: ok in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (!existsSync(new URL('../node_modules/.package-lock.json', import.meta.url))) run('installing dependencies (npm ci)', 'npm', ['ci']);

const services = await ensureServices('test');
log(`NATS ${services.natsUrl}, PostgreSQL ${services.databaseUrl}`);
const env = { NATS_URL: services.natsUrl, DATABASE_URL: services.databaseUrl };

if (!only.length) {
  run('build (tsc -b)', 'npx', ['tsc', '-b', 'tsconfig.build.json']);
  run('type-check tests', 'npx', ['tsc', '-p', 'tsconfig.json']);
  run('lint and dependency rules (eslint)', 'npx', ['eslint', '.', '--max-warnings=0']);
  // The console's end-to-end tests drive the built console in Chromium.
  run('build the console (ng build)', 'npm', ['run', 'build', '--silent', '-w', '@pulse/web']);
}
run('unit, integration and end-to-end tests (jest)', 'npx', ['jest', '--ci', ...only], { ...env, NODE_OPTIONS: '--experimental-vm-modules --no-warnings', CHROME_BIN: process.env.CHROME_BIN ?? '/usr/bin/chromium' });
stopOwnServices();
log('all tests passed');
