// `npm run bench [-- --quick]`: Pulse's benchmark (issue #7). Builds, starts a projector and an API
// of its own over the machine's NATS and PostgreSQL, and measures through the real ingestion path:
// the highest sustained rate, latency from POST to commit and to live clients, CPU and memory per
// process, a JetStream baseline, exactness against the simulator's ledger, and rebuild speed.
// Results: bench/results/latest.json; see bench/README.md for how to read them.
import { fork, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_NODE_FLAGS, PROJECTOR_NODE_FLAGS } from '../scripts/node-flags.mjs';
import { Cleanup, dropDatabase, eventually, freePort, sleep, spawnApp, stopChild, withDatabase, apiReady, projectorReady } from './stack.mjs';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const startedAtMs = Date.now();
const args = process.argv.slice(2);

function option(name, fallback) {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const a = args[i];
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : (args[i + 1] ?? '');
}

if (args.includes('--help')) {
  console.log(`usage: npm run bench [-- options]
  --quick                 about 2 minutes: shorter steps, smaller baseline and rebuild
  --steps 0.5,1,2,...     target rates to try, in millions of events per minute
  --step-seconds N        measured seconds per step (after a warm-up)
  --clients N             live socket.io clients (default 200)
  --baseline-events N     events in the JetStream baseline
  --rebuild auto|api|projector   how rebuild speed is measured (default auto)
  --no-refine             do not try rates between the last sustained and the first failed step
  --wait-quiet[=S]        first wait up to S seconds (default 600) for other work on the machine to stop
  --partitions N          stream partitions (default: the product's, DEFAULT_PARTITIONS)
  --profile               write V8 CPU profiles of the projector, API and load generator to bench/results/profiles`);
  process.exit(0);
}

const quick = args.includes('--quick');
const config = {
  quick,
  steps: option('steps', quick ? '0.5,1,2,3,4,5,6' : '0.5,1,2,3,4,5,6,8,10').split(',').map(Number).filter((x) => x > 0),
  warmupSeconds: quick ? 2 : 3,
  stepSeconds: Number(option('step-seconds', quick ? 10 : 25)),
  clients: Number(option('clients', 200)),
  baselineEvents: Number(option('baseline-events', quick ? 400_000 : 1_500_000)),
  rebuild: option('rebuild', 'auto'),
  refine: !quick && !args.includes('--no-refine'),
  profile: args.includes('--profile'),
  // Default: the product's (DEFAULT_PARTITIONS), read once the contracts are built.
  partitions: Number(option('partitions', 0)) || undefined,
  batchSize: 1000,
  maxInFlight: 16,
  markerEveryMs: 50,
  pushIntervalMs: 100,
  drainTimeoutSeconds: quick ? 45 : 90,
  rebuildTimeoutSeconds: quick ? 45 : 150,
  // The demo's mix, with lateness bounded to a minute so the held-back events stay few.
  traffic: { late: 0.02, lateMaxMs: 60_000, duplicate: 0.01, malformed: 0.001, outOfOrder: 0.05 },
};

const RULE = {
  minAchievedShare: 0.95,
  maxEndLagSeconds: 2,
  maxLagSlopeShare: 0.03,
};
const RULE_TEXT =
  `a step is sustained when the load generator achieved >= ${RULE.minAchievedShare * 100}% of the target rate AND the projector kept up: ` +
  `its lag at the end of the step (median of the last 3 one-second samples) is at most ${RULE.maxEndLagSeconds} s of target traffic, ` +
  `and the lag does not trend upwards (least-squares slope over the measured window below ${RULE.maxLagSlopeShare * 100}% of the target rate, ` +
  'i.e. the projector takes in at least 97% of what arrives). Lag = JetStream num_pending + num_ack_pending summed over the live consumers of all partitions, ' +
  'converted to events with the events per message the projector has committed.';

const t0 = Date.now();
function log(message) {
  console.log(`[bench ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${message}`);
}
const fmt = (n) => (n === null || n === undefined || Number.isNaN(n) ? '-' : Math.round(n).toLocaleString('en'));
const perMin = (n) => `${(n / 1e6).toFixed(2)}M/min`;

const cleanup = new Cleanup(log);
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, async () => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping and cleaning up`);
    await cleanup.run();
    process.exit(130);
  });
}

try {
  await main();
  await cleanup.run();
  process.exit(0);
} catch (e) {
  log(`FAILED: ${e.stack ?? e.message}`);
  await cleanup.run();
  process.exit(1);
}

async function main() {
  log(`Pulse benchmark${quick ? ' (quick)' : ''}: building (npx tsc -b tsconfig.build.json)`);
  const build = spawnSync('npx', ['tsc', '-b', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`the build failed (exit ${build.status}); fix it and run again`);

  // Imported only now: these are the packages just built.
  const [{ connect }, { jetstreamManager }, { PulseNames, DEFAULT_PARTITIONS }, { ensureServices }, { ProcessUsage, findNatsPid, parentOf, machineBusyOver }, latency, { LagMonitor, pendingMessages, checkpointTotals }, { BackendStates }, { runBaseline }, { compareTotals }, { measureRebuild }, pg] = await Promise.all([
    import('@nats-io/transport-node'),
    import('@nats-io/jetstream'),
    import('@pulse/contracts'),
    import('../scripts/services.mjs'),
    import('./process-usage.mjs'),
    import('./latency.mjs'),
    import('./projector-lag.mjs'),
    import('./backend-states.mjs'),
    import('./baseline.mjs'),
    import('./exactness.mjs'),
    import('./rebuild.mjs'),
    import('pg'),
  ]);

  // The machine may be shared (other work's tests use the same servers): say so before measuring.
  const quietLimit = 25;
  let busyBefore = await machineBusyOver(3000);
  const waitQuiet = args.some((a) => a.startsWith('--wait-quiet')) ? Number(option('wait-quiet', '') || 600) : 0;
  for (const until = Date.now() + waitQuiet * 1000; busyBefore > quietLimit && Date.now() < until; ) {
    log(`the machine is busy (${busyBefore}% of a core): waiting for it to be quiet (--wait-quiet)`);
    await sleep(10_000);
    busyBefore = await machineBusyOver(3000);
  }
  if (busyBefore > quietLimit) log(`WARNING: before starting, other work kept the machine ${busyBefore}% busy (of ${os.cpus().length * 100}%): figures will be pessimistic (--wait-quiet waits for a quiet machine)`);
  const services = await ensureServices('test');
  const id = randomBytes(4).toString('hex');
  const root = `b${id}`;
  config.partitions ??= DEFAULT_PARTITIONS;
  const names = new PulseNames(root, config.partitions);
  const databaseName = `pulse_bench_${id}`;
  const adminUrl = services.databaseUrl;
  const databaseUrl = withDatabase(adminUrl, databaseName);
  const tokens = { admin: randomBytes(18).toString('base64url'), producer: randomBytes(18).toString('base64url'), operator: randomBytes(18).toString('base64url') };
  log(`NATS ${services.natsUrl} root ${root} (streams ${names.eventsStream}, ${names.deadLetterStream}); PostgreSQL database ${databaseName}`);

  const nc = await connect({ servers: services.natsUrl, name: 'pulse-bench', noAsyncTraces: true });
  const jsm = await jetstreamManager(nc);
  cleanup.add('close the NATS connection', () => nc.close());
  cleanup.add(`drop database ${databaseName}`, () => dropDatabase(adminUrl, databaseName));
  cleanup.add(`delete streams ${names.eventsStream}, ${names.deadLetterStream}`, async () => {
    for (const s of [names.eventsStream, names.deadLetterStream]) await jsm.streams.delete(s).catch(() => undefined);
  });

  // --- the system under test -------------------------------------------------------------------
  const port = await freePort();
  const apiUrl = `http://127.0.0.1:${port}`;
  // The API marks the messages it validated and the projector takes the marks (ADR 0010), as `npm start`
  // runs them; PULSE_VALIDATION_KEY= (empty) in the benchmark's environment measures without.
  const validationKey = process.env.PULSE_VALIDATION_KEY ?? randomBytes(24).toString('base64url');
  const env = { NATS_URL: services.natsUrl, DATABASE_URL: databaseUrl, PULSE_ROOT: root, PULSE_PARTITIONS: String(config.partitions), PULSE_VALIDATION_KEY: validationKey };
  // Profiles are written when a process exits, so each stops with SIGTERM and its own shutdown.
  const nodeArgs = config.profile ? ['--cpu-prof', `--cpu-prof-dir=${join(repoRoot, 'bench', 'results', 'profiles')}`] : [];
  const projector = spawnApp(repoRoot, 'projector', env, 'projector', [...nodeArgs, ...PROJECTOR_NODE_FLAGS]);
  cleanup.add('stop the projector', () => stopChild(projector));
  await projectorReady(projector, databaseUrl);
  log(`projector up (pid ${projector.pid}), database migrated`);
  const api = spawnApp(
    repoRoot,
    'api',
    {
      ...env,
      PORT: String(port),
      PULSE_TOKENS: `bench:admin:${tokens.admin},load:producer:${tokens.producer},watch:operator:${tokens.operator}`,
      PULSE_INGEST_EVENTS_PER_SECOND: '1000000000',
      PULSE_INGEST_BURST: '1000000000',
      PULSE_PUSH_INTERVAL_MS: String(config.pushIntervalMs),
    },
    'api',
    [...nodeArgs, ...API_NODE_FLAGS],
  );
  cleanup.add('stop the API', () => stopChild(api));
  await apiReady(api, apiUrl);
  log(`API up on ${apiUrl} (pid ${api.pid})`);

  // --- who uses the CPU ------------------------------------------------------------------------
  const usage = new ProcessUsage();
  const natsPid = findNatsPid(Number(new URL(services.natsUrl).port || 4222));
  const pgClient = new pg.default.Client({ connectionString: databaseUrl, application_name: 'pulse-bench' });
  pgClient.on('error', () => undefined);
  await pgClient.connect();
  cleanup.add('close the benchmark database connection', () => pgClient.end());
  const postmaster = parentOf((await pgClient.query('SELECT pg_backend_pid() AS pid')).rows[0].pid);
  usage.track('nats', natsPid);
  usage.track('postgres', postmaster, { tree: true, sharedMemory: true });
  usage.track('projector', projector.pid);
  usage.track('api', api.pid);
  usage.track('benchMain', process.pid);
  if (!natsPid) log('warning: nats-server process not found; its CPU is not measured');
  // Which client each PostgreSQL backend serves, so the server's CPU can be split by who asks.
  const ourDatabases = new Set([databaseName, `${databaseName}_rebuild`]);
  const labelBackends = async () => {
    const { rows } = await pgClient.query(`SELECT pid, backend_type, datname, application_name FROM pg_stat_activity`);
    usage.label(
      'postgres',
      rows.map((r) => [r.pid, r.backend_type !== 'client backend' ? r.backend_type : !ourDatabases.has(r.datname) ? 'other databases' : r.datname === databaseName ? r.application_name || 'unnamed client' : `${r.application_name || 'unnamed client'} (rebuild)`]),
    );
  };
  await labelBackends();
  const labelTimer = setInterval(() => void labelBackends().catch(() => undefined), 1000);
  cleanup.add('stop labelling backends', () => clearInterval(labelTimer));
  usage.start(1000);
  cleanup.add('stop sampling', () => usage.stop());

  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    natsServer: nc.info?.version,
    postgres: (await pgClient.query('SHOW server_version')).rows[0].server_version,
    busyBeforePercent: busyBefore,
  };

  // --- 1. baseline: JetStream alone ------------------------------------------------------------
  log(`baseline: ${fmt(config.baselineEvents)} events through JetStream alone (publish as the API does, consume and ack as the projector does, no processing)`);
  const baseline = await runBaseline({
    nc,
    jsm,
    natsUrl: services.natsUrl,
    root: `${root}base`,
    partitions: config.partitions,
    events: config.baselineEvents,
    batchSize: config.batchSize,
    inFlight: config.maxInFlight,
    traffic: config.traffic,
    repoRoot,
    usage,
    log,
    cleanup,
  });
  log(`baseline: ${fmt(baseline.events)} events in ${baseline.messages} messages (${baseline.eventsPerMessage}/message) in ${baseline.seconds} s = ${perMin(baseline.eventsPerMinute)}; CPU ${cpuLine(baseline.cpu)}`);

  // --- watchers: marker commits and live clients ------------------------------------------------
  const times = new latency.MarkerTimes();
  const poller = await latency.startCommitPoller(databaseUrl, times, 20);
  cleanup.add('stop the commit poller', () => poller.stop());
  const watchers = await latency.connectWatchers(apiUrl, tokens.operator, config.clients, times, log);
  cleanup.add('close the live clients', () => watchers.close());
  log(`${config.clients} live clients subscribed to the markers' 1s series`);
  const lag = new LagMonitor(jsm, names, databaseUrl);
  await lag.start(1000);
  cleanup.add('stop the lag monitor', () => lag.stop());
  const states = new BackendStates(databaseUrl, databaseName);
  await states.start(200);
  cleanup.add('stop sampling backend states', () => states.stop());

  // --- the load generator ------------------------------------------------------------------------
  const markerSource = `bench/markers-${id}`;
  const loader = fork(
    join(repoRoot, 'bench', 'load-generator.mjs'),
    [JSON.stringify({ apiUrl, token: tokens.producer, batchSize: config.batchSize, maxInFlight: config.maxInFlight, markerEveryMs: config.markerEveryMs, markerSource, traffic: config.traffic })],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=8192', ...nodeArgs] },
  );
  cleanup.add('stop the load generator', () => stopChild(loader, 2000));
  const progress = [];
  const waiters = new Map();
  const lostMarkers = [];
  loader.on('message', (m) => {
    if (m.type === 'progress') progress.push(m);
    else if (m.type === 'markers') for (const s of m.sent) times.sent(s.k, s.at);
    else if (m.type === 'markers-lost') {
      for (const k of m.ks) times.lost.add(k);
      lostMarkers.push(m);
    } else if (m.type === 'error') log(`load generator: ${m.message}`);
    const w = waiters.get(m.type);
    if (w) {
      waiters.delete(m.type);
      w(m);
    }
  });
  const loaderExit = new Promise((_, reject) => loader.on('exit', (code, signal) => !interrupted && reject(new Error(`the load generator exited (${signal ?? code})`))));
  loaderExit.catch(() => undefined);
  const reply = (type, timeoutMs = 120_000) =>
    Promise.race([new Promise((resolve) => waiters.set(type, resolve)), loaderExit, sleep(timeoutMs).then(() => { throw new Error(`no "${type}" from the load generator in ${timeoutMs / 1000} s`); })]);
  await reply('ready', 30_000);
  usage.track('loadGenerator', loader.pid);
  const totalsAt = (at) => {
    let best = progress[0];
    for (const p of progress) if (p.at <= at) best = p;
    return best;
  };

  // --- 2. fixed-rate steps -----------------------------------------------------------------------
  log(`sustained-rate rule: ${RULE_TEXT}`);
  const steps = [];
  let seed = 1000;
  // With --wait-quiet, each step also waits (within the same budget) until other work leaves the machine alone.
  const quietUntil = Date.now() + waitQuiet * 1000;
  const awaitQuiet = async () => {
    while (waitQuiet && Date.now() < quietUntil) {
      usage.sample();
      const from = Date.now();
      await sleep(3000);
      usage.sample();
      const other = otherLoad(usage.window(from, Date.now()));
      if (other === null || other <= 20) return;
      log(`other work is using ${other}% of a core: waiting before the next step (--wait-quiet)`);
      await sleep(10_000);
    }
  };
  const runStep = async (millionsPerMinute) => {
    await awaitQuiet();
    const targetPerMinute = Math.round(millionsPerMinute * 1e6);
    const rate = targetPerMinute / 60;
    // The load generator prepares the step's requests first (a few seconds), with traffic for the
    // warm-up, the measured window and some slack before the stop arrives.
    loader.send({ type: 'start', rate, seed: seed++, seconds: config.warmupSeconds + config.stepSeconds + 5 });
    const started = await reply('started', 300_000);
    log(`  load prepared in ${(started.preparedInMs / 1000).toFixed(1)} s${started.lateStartMs ? `, started ${started.lateStartMs} ms late` : ''}`);
    const from = started.at + config.warmupSeconds * 1000;
    const to = from + config.stepSeconds * 1000;
    log(`step ${perMin(targetPerMinute)} (${fmt(rate)} events/s): ${config.warmupSeconds} s warm-up, then ${config.stepSeconds} s measured`);
    while (Date.now() < to) {
      await sleep(Math.min(5000, to - Date.now()));
      const now = Date.now();
      const p = totalsAt(now);
      const a = totalsAt(Math.max(started.at, now - 5000));
      const l = lag.latest();
      const mark = times.summary(started.at, now, config.clients);
      log(
        `  ${Math.round((now - started.at) / 1000)} s: sent ${fmt((p.totals.sent - a.totals.sent) / ((p.at - a.at) / 1000))}/s, in flight ${fmt(p.totals.inFlight)}, ` +
          `lag ${fmt(l?.lagEvents)} events (${((l?.lagEvents ?? 0) / rate).toFixed(2)} s), commit p99 ${fmt(mark.publishToCommit.p99)} ms, browser p99 ${fmt(mark.publishToBrowser.p99)} ms`,
      );
    }
    const a = totalsAt(from);
    const b = totalsAt(to);
    const achieved = ((b.totals.sent - a.totals.sent) / ((b.at - a.at) / 1000)) * 60;
    const window = usage.window(from, to);
    const samples = lag.between(from, to);
    loader.send({ type: 'stop' });
    const stopped = await reply('stopped');
    const stoppedAt = Date.now();
    // Drain: everything stored (the flushed late events too) is committed before the next step.
    let drained = true;
    await eventually(async () => ((await pendingMessages(jsm, names)).pending === 0 ? true : undefined), config.drainTimeoutSeconds * 1000, 'the projector to drain', 200).catch(() => (drained = false));
    const drainSeconds = (Date.now() - stoppedAt) / 1000;
    await eventually(() => (times.settled(config.clients) ? true : undefined), 10_000, 'markers to reach every client', 100).catch(() => undefined);

    const lagSeries = samples.map((s) => ({ t: (s.at - from) / 1000, lag: s.lagEvents }));
    const lastThree = lagSeries.slice(-3).map((s) => s.lag).sort((x, y) => x - y);
    const lagEnd = lastThree.length ? lastThree[Math.floor(lastThree.length / 2)] : null;
    const slope = slopeOf(lagSeries);
    const committed = samples.length >= 2 ? ((samples[samples.length - 1].committedEvents - samples[0].committedEvents) / ((samples[samples.length - 1].at - samples[0].at) / 1000)) * 60 : null;
    const reasons = [];
    if (achieved < RULE.minAchievedShare * targetPerMinute) reasons.push(`achieved ${((achieved / targetPerMinute) * 100).toFixed(1)}% of the target`);
    if (lagEnd === null) reasons.push('no lag samples');
    else if (lagEnd > RULE.maxEndLagSeconds * rate) reasons.push(`lag at the end ${(lagEnd / rate).toFixed(1)} s of traffic`);
    if (slope !== null && slope > RULE.maxLagSlopeShare * rate) reasons.push(`lag grew ${fmt(slope)} events/s (${((slope / rate) * 100).toFixed(1)}% of the rate)`);
    const marks = times.summary(from, to, config.clients);
    const step = {
      targetPerMinute,
      achievedPerMinute: Math.round(achieved),
      achievedShare: round3(achieved / targetPerMinute),
      sustained: reasons.length === 0,
      notSustainedBecause: reasons,
      lagEventsEnd: lagEnd,
      lagSecondsEnd: lagEnd === null ? null : round3(lagEnd / rate),
      lagEventsMax: samples.length ? Math.max(...samples.map((s) => s.lagEvents)) : null,
      lagSlopeEventsPerSecond: slope === null ? null : Math.round(slope),
      projectorCommittedPerMinute: committed === null ? null : Math.round(committed),
      publishToCommit: marks.publishToCommit,
      publishToBrowser: marks.publishToBrowser,
      markers: { sent: marks.markers, committed: marks.committed, receivedByAllClients: marks.receivedByAllClients },
      cpu: { ...window.cpu, machineBusy: window.machineBusyPercent },
      postgresCpuByClient: window.breakdown.postgres,
      // CPU taken by work that is not the benchmark's: other processes, other databases' backends.
      otherLoadPercent: otherLoad(window),
      projectorConnections: states.window(from, to),
      memoryMb: window.memoryMb,
      cpuMicrosecondsPerEvent: achieved > 0 ? Math.round((sumCpu(window.cpu) / 100 / (achieved / 60)) * 1e6 * 10) / 10 : null,
      http: { requests: b.totals.requests - a.totals.requests, retries: b.totals.retries - a.totals.retries, errors: b.totals.errors - a.totals.errors, lastError: b.totals.lastError ?? null },
      drainSeconds: Math.round(drainSeconds * 10) / 10,
      drained,
      lateFlushedAtStop: stopped.stats.late,
      measuredSeconds: window.seconds,
      lagSeries,
      // [ms into the measured window when sent, publish->commit ms] per marker: where a step's p99 comes from.
      publishToCommitSeries: marks.commitSeries,
    };
    steps.push(step);
    log(
      `step ${perMin(targetPerMinute)}: achieved ${perMin(achieved)} (${(step.achievedShare * 100).toFixed(1)}%), projector ${committed === null ? '-' : perMin(committed)}, ` +
        `lag end ${fmt(lagEnd)} events, slope ${fmt(slope)}/s -> ${step.sustained ? 'SUSTAINED' : `NOT sustained (${reasons.join('; ')})`}`,
    );
    log(`  publish->commit p50/p99/max ${fmt(marks.publishToCommit.p50)}/${fmt(marks.publishToCommit.p99)}/${fmt(marks.publishToCommit.max)} ms; publish->browser ${fmt(marks.publishToBrowser.p50)}/${fmt(marks.publishToBrowser.p99)}/${fmt(marks.publishToBrowser.max)} ms (${marks.markers} markers x ${config.clients} clients)`);
    log(`  CPU % of a core: ${cpuLine(window.cpu)}; machine ${window.machineBusyPercent}% of ${machine.cpus * 100}%; drained in ${step.drainSeconds} s`);
    log(`  PostgreSQL CPU by client: ${cpuLine(window.breakdown.postgres ?? {})}`);
    if (step.projectorConnections) log(`  projector's database connections (average): ${cpuLine(step.projectorConnections)}`);
    if (step.otherLoadPercent > 10) log(`  WARNING: other work on the machine took ${step.otherLoadPercent}% of a core during this step; its figures are pessimistic`);
    return step;
  };

  // With --wait-quiet, a step that other work disturbed (> 20% of a core) is measured again once,
  // when the machine is quiet; the disturbed measurement is kept apart in `repeatedSteps`.
  const repeatedSteps = [];
  const measure = async (m) => {
    const step = await runStep(m);
    if (!waitQuiet || !(step.otherLoadPercent > 20) || Date.now() >= quietUntil) return step;
    log(`step ${perMin(step.targetPerMinute)} was disturbed by other work (${step.otherLoadPercent}% of a core): measuring it again`);
    repeatedSteps.push(steps.pop());
    return runStep(m);
  };
  let lastSustained;
  let failed;
  for (const m of config.steps) {
    const step = await measure(m);
    if (!step.sustained) {
      failed = m;
      break;
    }
    lastSustained = m;
  }
  // Bisect between the last sustained and the first failed rate, to a quarter million, at most twice.
  for (let refinements = 0; config.refine && failed !== undefined && lastSustained !== undefined && refinements < 2; refinements++) {
    const between = Math.round(((failed + lastSustained) / 2) * 4) / 4;
    if (between <= lastSustained || between >= failed) break;
    log(`refining between ${lastSustained}M and ${failed}M/min`);
    if ((await measure(between)).sustained) lastSustained = between;
    else failed = between;
  }

  // --- 3. exactness ------------------------------------------------------------------------------
  log('exactness: waiting until the projector has committed the whole stream');
  let coverage;
  await eventually(
    async () => {
      const p = await pendingMessages(jsm, names);
      const c = await checkpointTotals(pgClient);
      const heads = [];
      for (let i = 0; i < names.partitions; i++) {
        const last = await jsm.streams.getMessage(names.eventsStream, { last_by_subj: names.partitionFilter(i) }).catch(() => undefined);
        heads.push(last?.seq ?? 0);
      }
      coverage = { pending: p.pending, heads, checkpoints: c.partitions.map((x) => x.seq) };
      if (p.missing || p.pending > 0) return undefined;
      // Covered: every partition's checkpoint is at its last stored message.
      return c.partitions.every((cp, i) => cp.seq >= heads[i]) ? true : undefined;
    },
    120_000,
    'the checkpoints to cover the stream',
    250,
  ).catch((e) => {
    throw new Error(`${e.message}; last seen ${JSON.stringify(coverage)}`);
  });
  loader.send({ type: 'expected' });
  const { expected, totals } = await reply('expected');
  const markersAccepted = totals.markers - times.lost.size;
  const exactness = await compareTotals(pgClient, { expected, markers: markersAccepted, acceptedEvents: totals.accepted, duplicatesAccepted: totals.duplicates });
  for (const c of exactness.comparisons) log(`  ${c.match ? 'ok      ' : 'MISMATCH'} ${c.what}: read model ${fmt(c.readModel)}, ledger ${fmt(c.ledger)}`);
  for (const n of exactness.notes) log(`  (note)   ${n.what}: ${fmt(n.projector)} of ${fmt(n.accepted)}`);
  log(`exactness: totals ${exactness.totalsExact ? 'EXACT' : 'NOT exact'} (${exactness.comparisons.filter((c) => c.match).length}/${exactness.comparisons.length} match)`);
  await stopChild(loader, 2000);
  usage.untrack('loadGenerator');
  watchers.close();
  await poller.stop();
  await lag.stop();
  await states.stop();

  // --- 4. rebuild --------------------------------------------------------------------------------
  const rebuild = await measureRebuild(
    { repoRoot, env, adminUrl, databaseName, databaseUrl, apiUrl, adminToken: tokens.admin, jsm, names, timeoutMs: config.rebuildTimeoutSeconds * 1000, usage, log, cleanup },
    config.rebuild,
  );
  log(`rebuild (${rebuild.method}): ${fmt(rebuild.events)} events in ${rebuild.seconds} s = ${perMin(rebuild.eventsPerMinute)}${rebuild.completed ? '' : ' (NOT completed within the time limit: rate so far)'}; CPU ${cpuLine(rebuild.cpu)}`);

  // --- results -----------------------------------------------------------------------------------
  const sustained = steps.filter((s) => s.sustained).sort((a, b) => b.targetPerMinute - a.targetPerMinute)[0];
  const at1M = steps.find((s) => s.targetPerMinute === 1_000_000);
  // The lowest rate that was not sustained: the closest look at the limit.
  const firstFailed = steps.filter((s) => !s.sustained).sort((a, b) => a.targetPerMinute - b.targetPerMinute)[0];
  const results = {
    startedAt: new Date(startedAtMs).toISOString(),
    durationSeconds: Math.round((Date.now() - startedAtMs) / 1000),
    command: process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}` : `node bench/run.mjs ${args.join(' ')}`.trim(),
    quick,
    machine,
    sustainedEventsPerMinute: sustained?.achievedPerMinute ?? 0,
    sustainedTargetPerMinute: sustained?.targetPerMinute ?? 0,
    baselineEventsPerMinute: baseline.eventsPerMinute,
    ratioToBaseline: sustained ? round3(sustained.achievedPerMinute / baseline.eventsPerMinute) : 0,
    publishToBrowserP99Ms: sustained?.publishToBrowser.p99 ?? null,
    publishToBrowserP99MsAt1M: at1M?.publishToBrowser.p99 ?? null,
    publishToCommitP99Ms: sustained?.publishToCommit.p99 ?? null,
    publishToCommitP99MsAt1M: at1M?.publishToCommit.p99 ?? null,
    rebuildEventsPerMinute: rebuild.eventsPerMinute,
    rebuildMethod: rebuild.method,
    totalsExact: exactness.totalsExact,
    sustainedRule: RULE_TEXT,
    limitedBy: firstFailed ? limitOf(firstFailed, machine.cpus) : 'no step failed: the ladder ended before the limit',
    config: { ...config, apiPushIntervalMs: config.pushIntervalMs, markerCurrency: 'XTS' },
    steps,
    repeatedSteps,
    baseline,
    rebuild,
    exactness: { ...exactness, markersSent: totals.markers, markersLost: times.lost.size, lostMarkers, load: totals },
  };
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  printSummary(results);
  log(`results written to bench/results/latest.json (child logs in bench/results/logs/)`);
}

function round3(x) {
  return Math.round(x * 1000) / 1000;
}

/** Machine busy time not spent by the measured processes, plus PostgreSQL backends of other databases. */
function otherLoad(window) {
  if (window.machineBusyPercent === null) return null;
  const outside = window.machineBusyPercent - sumCpu(window.cpu);
  return Math.round((Math.max(0, outside) + (window.breakdown.postgres?.['other databases'] ?? 0)) * 10) / 10;
}

function sumCpu(cpu) {
  return Object.values(cpu).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
}

function cpuLine(cpu) {
  return Object.entries(cpu)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
}

/** Least-squares slope of lag over time, events per second. */
function slopeOf(series) {
  if (series.length < 3) return null;
  const n = series.length;
  const mt = series.reduce((a, s) => a + s.t, 0) / n;
  const ml = series.reduce((a, s) => a + s.lag, 0) / n;
  let num = 0;
  let den = 0;
  for (const s of series) {
    num += (s.t - mt) * (s.lag - ml);
    den += (s.t - mt) ** 2;
  }
  return den > 0 ? num / den : null;
}

/** Which process saturated at the first step that was not sustained. */
function limitOf(step, cpus) {
  const own = Object.entries(step.cpu).filter(([k]) => k !== 'machineBusy').sort((a, b) => b[1] - a[1]);
  const [top, second] = own;
  const busy = step.cpu.machineBusy;
  const saturatedMachine = busy !== null && busy >= cpus * 100 * 0.9;
  const disturbed = step.otherLoadPercent > 10 ? `; other work on the machine took ${step.otherLoadPercent}% of a core meanwhile` : '';
  return {
    atTargetPerMinute: step.targetPerMinute,
    machineBusyPercent: busy,
    machineCapacityPercent: cpus * 100,
    busiest: own.slice(0, 4).map(([name, percent]) => ({ name, percent })),
    verdict: `${saturatedMachine
      ? `the machine's ${cpus} cores were saturated (${busy}% of ${cpus * 100}%); the largest share went to ${top[0]} (${top[1]}%) then ${second?.[0]} (${second?.[1]}%)`
      : top[1] >= 90
        ? `${top[0]} was saturated at ${top[1]}% of one core (it runs on one thread) while the machine had headroom (${busy}% of ${cpus * 100}%)`
        : `no process was saturated (${top[0]} ${top[1]}%, machine ${busy}% of ${cpus * 100}%): the limit is waiting (locks, commit round trips), not CPU`}${disturbed}`,
    otherLoadPercent: step.otherLoadPercent,
    projectorConnections: step.projectorConnections,
  };
}

function printSummary(r) {
  const line = '-'.repeat(100);
  console.log(`\n${line}\nPulse benchmark ${r.quick ? '(quick) ' : ''}— ${r.machine.cpus} cores, ${r.machine.memoryGb} GiB, Node ${r.machine.node}, nats-server ${r.machine.natsServer}, PostgreSQL ${r.machine.postgres}`);
  console.log(line);
  console.log('target/min   achieved/min  sust  lag end  commit p50/p99/max ms   browser p50/p99/max ms   CPU % (nats pg proj api load main) machine other');
  for (const s of r.steps) {
    const c = s.cpu;
    console.log(
      `${perMin(s.targetPerMinute).padEnd(12)} ${perMin(s.achievedPerMinute).padEnd(13)} ${(s.sustained ? 'yes' : 'NO').padEnd(5)} ${String(s.lagSecondsEnd ?? '-').padEnd(8)} ` +
        `${`${fmt(s.publishToCommit.p50)}/${fmt(s.publishToCommit.p99)}/${fmt(s.publishToCommit.max)}`.padEnd(23)} ${`${fmt(s.publishToBrowser.p50)}/${fmt(s.publishToBrowser.p99)}/${fmt(s.publishToBrowser.max)}`.padEnd(24)} ` +
        `${[c.nats, c.postgres, c.projector, c.api, c.loadGenerator, c.benchMain].map((v) => String(v ?? '-').padStart(5)).join(' ')}   ${String(c.machineBusy).padEnd(7)} ${s.otherLoadPercent}`,
    );
  }
  console.log(line);
  console.log(`sustained:            ${perMin(r.sustainedEventsPerMinute)} (step ${perMin(r.sustainedTargetPerMinute)})`);
  console.log(`baseline (JetStream): ${perMin(r.baselineEventsPerMinute)}  -> ratio ${r.ratioToBaseline}`);
  console.log(`publish->browser p99: ${fmt(r.publishToBrowserP99Ms)} ms at the sustained step, ${fmt(r.publishToBrowserP99MsAt1M)} ms at 1M/min`);
  console.log(`publish->commit p99:  ${fmt(r.publishToCommitP99Ms)} ms at the sustained step, ${fmt(r.publishToCommitP99MsAt1M)} ms at 1M/min`);
  console.log(`rebuild (${r.rebuildMethod}): ${perMin(r.rebuildEventsPerMinute)}${r.rebuild.completed ? '' : ' (partial)'}`);
  console.log(`totals exact:         ${r.totalsExact} (${r.exactness.comparisons.filter((c) => c.match).length}/${r.exactness.comparisons.length} totals match the ledger)`);
  console.log(`limited by:           ${typeof r.limitedBy === 'string' ? r.limitedBy : r.limitedBy.verdict}`);
  const disturbed = r.steps.filter((s) => s.otherLoadPercent > 10);
  if (r.machine.busyBeforePercent > 25 || disturbed.length)
    console.log(`WARNING:              other work used the machine (before: ${r.machine.busyBeforePercent}%, during ${disturbed.length} step(s) > 10% of a core): figures are pessimistic`);
  console.log(`took ${r.durationSeconds} s\n${line}`);
}
