// Rebuild speed: how fast the whole stored stream is projected again from the start.
//
// Two ways, one result shape. 'api' asks the running system for a full rebuild of each projection in
// turn (POST /api/v1/admin/rebuilds) and polls each until its new version is served. 'projector' is the
// stand-in while that command does not exist: a second projector process, with its own consumer
// names (PULSE_CONSUMER_PREFIX=rebuild-) and a fresh database, reads the same stream from sequence 1;
// done when its checkpoints have taken in every event the live checkpoints hold.
// 'auto' uses the API when it answers the POST, else the second projector.
import pg from 'pg';
import { pendingMessages } from './projector-lag.mjs';
import { dropDatabase, projectorReady, sleep, spawnApp, stopChild, withDatabase } from './stack.mjs';

const PROJECTIONS = ['sales', 'checkout', 'funnel', 'traffic', 'inventory'];

async function storedEvents(databaseUrl) {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT coalesce(sum(events + duplicates + dead_letters), 0)::bigint AS n FROM pulse.checkpoints WHERE pipeline = 'live'`);
    return Number(rows[0].n);
  } finally {
    await c.end();
  }
}

export async function measureRebuild(ctx, method = 'auto') {
  let apiFailure;
  if (method === 'api' || method === 'auto') {
    try {
      const viaApi = await rebuildThroughApi(ctx, method === 'auto');
      if (viaApi) return viaApi;
    } catch (e) {
      if (method === 'api') throw e;
      apiFailure = e.message;
      ctx.log(`rebuild: the API's rebuild failed (${e.message}); measuring with a second projector instead`);
    }
  }
  const result = await rebuildWithSecondProjector(ctx);
  return apiFailure ? { ...result, apiAttempt: { error: apiFailure } } : result;
}

/**
 * Full rebuilds through the API, one projection after the other (each re-reads the whole stored stream,
 * as an admin's rebuild does). The headline rate is the slowest projection's: a full rebuild of any one
 * projection re-projects the store at least that fast. Returns undefined when `optional` and the API has
 * no rebuild command (404/405).
 */
async function rebuildThroughApi(ctx, optional) {
  const { apiUrl, adminToken, databaseUrl, timeoutMs, log } = ctx;
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const events = await storedEvents(databaseUrl);
  ctx.usage.sample();
  const startedAt = Date.now();
  const operations = [];
  for (const projection of PROJECTIONS) {
    const began = Date.now();
    const r = await fetch(`${apiUrl}/api/v1/admin/rebuilds`, { method: 'POST', headers, body: JSON.stringify({ projection, mode: 'full', reason: 'benchmark: rebuild speed' }) });
    const body = await r.json().catch(() => ({}));
    if ((r.status === 404 || r.status === 405) && optional && !operations.length) return undefined;
    if (r.status !== 202 && r.status !== 201 && r.status !== 200) throw new Error(`POST /api/v1/admin/rebuilds ${projection} answered ${r.status}: ${JSON.stringify(body).slice(0, 300)}`);
    let op = body;
    while (op.status !== 'completed') {
      if (op.status === 'failed' || op.status === 'cancelled') throw new Error(`rebuild of ${projection} ${op.status}: ${op.error ?? ''}`);
      // Each projection has its own limit: the store, and so each rebuild, grows with the rate the run reached.
      if (Date.now() - began > timeoutMs) {
        await fetch(`${apiUrl}/api/v1/admin/rebuilds/${body.id}/cancel`, { method: 'POST', headers, body: '{}' }).catch(() => undefined);
        throw new Error(`rebuild of ${projection} did not complete within ${timeoutMs / 1000} s`);
      }
      await sleep(100);
      op = await (await fetch(`${apiUrl}/api/v1/admin/rebuilds/${body.id}`, { headers })).json();
    }
    const seconds = (Date.now() - began) / 1000;
    operations.push({ projection, id: op.id, seconds: Math.round(seconds * 10) / 10, eventsPerMinute: Math.round((events / seconds) * 60), durationSeconds: op.durationSeconds });
    log(`rebuild: ${projection} v${op.version} served after ${seconds.toFixed(1)} s (${Math.round((events / seconds) * 60).toLocaleString('en')} events/min)`);
  }
  const endedAt = Date.now();
  ctx.usage.sample();
  const window = ctx.usage.window(startedAt, endedAt);
  const slowest = operations.reduce((a, b) => (b.eventsPerMinute < a.eventsPerMinute ? b : a));
  return {
    method: 'api',
    description: 'POST /api/v1/admin/rebuilds {projection, mode: full} for each projection in turn, each polled until its new version is served; the headline is the slowest projection',
    completed: true,
    events,
    seconds: slowest.seconds,
    eventsPerMinute: slowest.eventsPerMinute,
    allProjectionsSeconds: Math.round(((endedAt - startedAt) / 1000) * 10) / 10,
    operations,
    cpu: window.cpu,
    postgresCpuByClient: window.breakdown.postgres,
    machineBusyPercent: window.machineBusyPercent,
  };
}

async function rebuildWithSecondProjector(ctx) {
  const { repoRoot, env, adminUrl, databaseName, jsm, names, timeoutMs, usage, log, cleanup, databaseUrl } = ctx;
  const target = await storedEvents(databaseUrl);
  const name = `${databaseName}_rebuild`;
  const url = withDatabase(adminUrl, name);
  cleanup.add(`drop database ${name}`, () => dropDatabase(adminUrl, name));
  log(`rebuild: second projector (consumer prefix rebuild-) into database ${name}, ${target.toLocaleString('en')} stored events to re-project`);
  const spawnedAt = Date.now();
  const child = spawnApp(repoRoot, 'projector', { ...env, DATABASE_URL: url, PULSE_CONSUMER_PREFIX: 'rebuild-' }, 'rebuild-projector');
  cleanup.add('stop the rebuild projector', () => stopChild(child));
  usage.track('rebuildProjector', child.pid);
  await projectorReady(child, url);
  // From here on the projector is migrated and its partition workers are starting: the rebuild proper.
  usage.sample();
  const startedAt = Date.now();
  const client = new pg.Client({ connectionString: url, application_name: 'pulse-bench-rebuild' });
  client.on('error', () => undefined);
  await client.connect();
  let done = 0;
  let lastLog = Date.now();
  let completed = false;
  try {
    while (Date.now() - startedAt < timeoutMs) {
      const { rows } = await client.query(`SELECT coalesce(sum(events + duplicates + dead_letters), 0)::bigint AS n FROM pulse.checkpoints WHERE pipeline = 'live'`);
      done = Number(rows[0].n);
      if (done >= target) {
        const lag = await pendingMessages(jsm, names, 'rebuild-');
        if (!lag.missing && lag.pending === 0) {
          completed = true;
          break;
        }
      }
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        log(`rebuild: ${done.toLocaleString('en')} of ${target.toLocaleString('en')} events (${Math.round((done / ((Date.now() - startedAt) / 1000)) * 60).toLocaleString('en')}/min)`);
      }
      await sleep(100);
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  const endedAt = Date.now();
  usage.sample();
  const window = usage.window(startedAt, endedAt);
  usage.untrack('rebuildProjector');
  await stopChild(child);
  const seconds = (endedAt - startedAt) / 1000;
  return {
    method: 'second-projector',
    description: 'a second projector process (PULSE_CONSUMER_PREFIX=rebuild-) on a fresh database over the same stream, timed from the end of its start-up until its checkpoints hold every stored event',
    completed,
    events: done,
    targetEvents: target,
    startupSeconds: Math.round((startedAt - spawnedAt) / 100) / 10,
    seconds: Math.round(seconds * 10) / 10,
    eventsPerMinute: Math.round((done / seconds) * 60),
    cpu: window.cpu,
    postgresCpuByClient: window.breakdown.postgres,
    machineBusyPercent: window.machineBusyPercent,
  };
}
