import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { PulseEvent, PulseNames } from '@pulse/contracts';
import { ensureStreams } from '@pulse/contracts/sdk';
import { TrafficModel } from '@pulse/simulator';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TOKENS } from '../../api/src/testing/api.js';
import { migratedDatabase } from '../../../test/support/database.js';
import { exited, spawnApp } from '../../../test/support/processes.js';
import { caughtUp } from '../../../test/support/projector.js';
import { eventually, isolatedNats, NATS_URL } from '../../../test/support/services.js';

// The whole stack the console runs against, each part a real process: the projector and the API from
// their builds (apps/*/dist), the built console (apps/web/dist) behind serve.mjs, and Debian's
// Chromium driven by playwright-core. Each stack has its own NATS root and its own database.

export { TOKENS };

const root = fileURLToPath(new URL('../../../', import.meta.url));
const CHROMIUM = process.env.CHROME_BIN ?? '/usr/bin/chromium';
// No updates, sync or QUIC probes from the test browser; no GPU and no sandbox in a container.
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** Events per ingestion request: well below the API's 10,000-event and 4 MiB limits. */
const INGEST_BATCH = 2000;

type Process = ChildProcess & { output: () => string };

export interface StackOptions {
  partitions?: number;
  /** The projector's allowed lateness (its default, 10 s): a test makes an event late by dating it a minute back. */
  allowedLatenessMs?: number;
  pushIntervalMs?: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function serveConsole(env: Record<string, string>): Process {
  const child = spawn(process.execPath, [join(root, 'apps/web/serve.mjs')], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return Object.assign(child, { output: () => output });
}

const running = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** SIGTERM, and SIGKILL if it has not gone within five seconds. */
async function stop(child: ChildProcess): Promise<void> {
  if (!running(child)) return;
  const gone = exited(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await gone;
  clearTimeout(timer);
}

/** Waits until `check` passes; fails at once, with what the process printed, if it dies first. */
async function ready(child: Process, name: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (!running(child) || Date.now() > until) {
      throw new Error(`${name} ${running(child) ? `not ready after ${timeoutMs} ms` : `exited (${child.exitCode ?? child.signalCode})`}:\n${child.output().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const answers = async (url: string) => (await fetch(url).catch(() => null))?.ok === true;

export class ConsoleStack {
  /** Uncaught errors in any page: the console must not throw, whatever the stack does. */
  readonly pageErrors: string[] = [];
  private api: Process | null = null;

  private constructor(
    readonly names: PulseNames,
    readonly apiUrl: string,
    readonly webUrl: string,
    private readonly apiEnv: Record<string, string>,
    private readonly nc: NatsConnection,
    private readonly context: BrowserContext,
    private readonly cleanup: () => Promise<void>,
  ) {}

  static async start(options: StackOptions = {}): Promise<ConsoleStack> {
    // Everything started is undone in reverse order, also when a later step fails.
    const undo: Array<() => Promise<unknown>> = [];
    const cleanup = async () => {
      while (undo.length) await undo.pop()!().catch(() => undefined);
    };
    try {
      const { names, nc, dispose } = await isolatedNats(options.partitions ?? 2);
      undo.push(dispose);
      await ensureStreams(await jetstreamManager(nc), names);
      const db = await migratedDatabase();
      undo.push(db.dispose);
      // The API marks what it validated and the projector takes the marks, as `npm start` and the benchmark run them.
      const shared = { NATS_URL, DATABASE_URL: db.url, PULSE_ROOT: names.root, PULSE_PARTITIONS: String(names.partitions), PULSE_TIMESCALE: 'off', PULSE_VALIDATION_KEY: `console-e2e-${names.root}` };

      const projector = spawnApp('projector', { ...shared, PULSE_ALLOWED_LATENESS_MS: String(options.allowedLatenessMs ?? 10_000), PULSE_NOTIFY_INTERVAL_MS: '20' });
      undo.push(() => stop(projector));
      const jsm = await jetstreamManager(nc);
      await ready(projector, 'the projector', async () => {
        for (let p = 0; p < names.partitions; p++) if (!(await jsm.consumers.info(names.eventsStream, `live-p${p}`).catch(() => null))) return false;
        return true;
      });

      const apiPort = await freePort();
      const apiUrl = `http://127.0.0.1:${apiPort}`;
      const apiEnv = {
        ...shared,
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        PULSE_TOKENS: `admin:admin:${TOKENS.admin},ops:operator:${TOKENS.operator},shop:producer:${TOKENS.producer}`,
        PULSE_PUSH_INTERVAL_MS: String(options.pushIntervalMs ?? 100),
      };

      const webPort = await freePort();
      const webUrl = `http://127.0.0.1:${webPort}`;
      const web = serveConsole({ PORT: String(webPort), HOST: '127.0.0.1', PULSE_API_URL: apiUrl });
      undo.push(() => stop(web));
      await ready(web, 'serve.mjs', () => answers(`${webUrl}/config.json`));

      const userDataDir = await mkdtemp(join(tmpdir(), 'pulse-chromium-'));
      undo.push(() => rm(userDataDir, { recursive: true, force: true }));
      const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_FLAGS,
        viewport: { width: 1440, height: 900 },
        // Times on screen in one zone and format, whatever the machine's.
        timezoneId: 'UTC',
        locale: 'en-GB',
      });
      undo.push(() => context.close());
      context.setDefaultTimeout(10_000);

      const stack = new ConsoleStack(names, apiUrl, webUrl, apiEnv, nc, context, cleanup);
      undo.push(() => (stack.api ? stop(stack.api) : Promise.resolve()));
      await stack.startApi();
      return stack;
    } catch (e) {
      await cleanup();
      throw e;
    }
  }

  /** Starts the API (again) on its port; resolves when it answers. */
  async startApi(): Promise<void> {
    if (this.api && running(this.api)) throw new Error('the API is already running');
    this.api = spawnApp('api', this.apiEnv);
    await ready(this.api, 'the API', () => answers(`${this.apiUrl}/health/live`));
  }

  /** Kills the API outright, as a crash would: no goodbye to its sockets. */
  async killApi(): Promise<void> {
    if (!this.api || !running(this.api)) throw new Error('the API is not running');
    const gone = exited(this.api);
    this.api.kill('SIGKILL');
    await gone;
  }

  /** A new tab; its sessionStorage, where the console keeps the token, is its own. */
  async newPage(): Promise<Page> {
    const page = await this.context.newPage();
    page.on('pageerror', (e) => this.pageErrors.push(`${page.url()}: ${e.message}`));
    return page;
  }

  /** Signs in on the sign-in page and waits for the console to show who is signed in. */
  async signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${this.webUrl}/sign-in`);
    await page.getByTestId('sign-in-token').fill(token);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('session-user').waitFor();
  }

  /** POST /api/v1/events with the producer token, in batches; resolves at the last 202 with its time. */
  async publish(events: readonly PulseEvent[]): Promise<number> {
    let acceptedAt = 0;
    for (let i = 0; i < events.length; i += INGEST_BATCH) {
      const res = await fetch(`${this.apiUrl}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents-batch+json', authorization: `Bearer ${TOKENS.producer}` },
        body: JSON.stringify(events.slice(i, i + INGEST_BATCH)),
      });
      acceptedAt = Date.now();
      const body = await res.text();
      if (res.status !== 202) throw new Error(`ingestion answered ${res.status}: ${body}`);
      const { rejected } = JSON.parse(body) as { rejected: unknown[] };
      if (rejected.length) throw new Error(`ingestion refused events: ${JSON.stringify(rejected.slice(0, 3))}`);
    }
    return acceptedAt;
  }

  /** Resolves once the projector has committed everything published so far. */
  committed(): Promise<void> {
    return caughtUp(this.nc, this.names, 30_000);
  }

  /**
   * Resolves once the projector has committed everything and the API owes no push: it pushes tiles at
   * most once a second, so a second after the last commit every change has gone out.
   */
  async quiet(): Promise<void> {
    await this.committed();
    const committedBy = Date.now();
    await eventually(() => (Date.now() - committedBy >= 1100 ? true : undefined), 3000, 'the last push');
  }

  /** GET on the API, parsed. */
  async get<T>(path: string, token = TOKENS.operator): Promise<T> {
    const res = await fetch(`${this.apiUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
    return (await res.json()) as T;
  }

  stop(): Promise<void> {
    return this.cleanup();
  }
}

/**
 * A shop's traffic from the simulator's model, in event time: `advance` hands out what happened since
 * the last call. A few events are held back and delivered late, so some buckets get revised.
 */
export class SimulatedShop {
  private readonly model: TrafficModel;
  private clock: number;

  constructor(openedAtMs: number, seed = 7) {
    this.clock = Math.floor(openedAtMs / 1000) * 1000;
    // A small catalogue with stock reported every ten minutes: at a few events a second, per-minute
    // stock reports of the default catalogue would crowd out the shoppers.
    this.model = new TrafficModel({
      seed,
      startMs: this.clock,
      // Late by more than the stack's allowed lateness (10 s), so they revise final buckets.
      late: 0.01,
      lateMinMs: 15_000,
      lateMaxMs: 120_000,
      outOfOrder: 0.05,
      products: 60,
      stockReportEveryMs: 600_000,
      concurrentSessions: 100,
      expectedRate: 12,
    });
  }

  /** The events of every second from the last call up to `untilMs`, at `perSecond`. */
  advance(untilMs: number, perSecond: number): PulseEvent[] {
    const events: PulseEvent[] = [];
    for (let t = this.clock + 1000; t <= untilMs; t += 1000) {
      for (const e of this.model.tick(t, perSecond)) if (e.kind !== 'malformed') events.push(e.event);
      this.clock = t;
    }
    return events;
  }
}
