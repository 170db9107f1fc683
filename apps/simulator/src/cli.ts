#!/usr/bin/env node
import { writeFile } from 'node:fs/promises';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { readCliOptions, usage, type CliOptions } from './cli-options.js';
import { TrafficDriver, type DriverStats, type Transport } from './driver.js';
import { HttpTransport } from './http-transport.js';
import { demoIncidents, type Incident } from './incidents.js';
import { SdkTransport } from './sdk-transport.js';
import { TrafficModel } from './traffic-model.js';

const count = new Intl.NumberFormat('en');

function httpTransport(options: CliOptions): { transport: Transport; close: () => Promise<void> } {
  const transport = new HttpTransport({ apiUrl: options.apiUrl, token: options.token });
  return { transport, close: async () => transport.close() };
}

async function sdkTransport(options: CliOptions): Promise<{ transport: Transport; close: () => Promise<void> }> {
  const nc: NatsConnection = await connect({ servers: options.natsUrl, name: 'pulse-simulator', noAsyncTraces: true, maxReconnectAttempts: -1 }).catch((e: Error) => {
    throw new Error(`cannot reach NATS at ${options.natsUrl}: ${e.message}`);
  });
  const { names } = options;
  const jsm = await jetstreamManager(nc);
  if (options.provision) await ensureStreams(jsm, names);
  const info = await jsm.streams.info(names.eventsStream).catch(() => undefined);
  if (!info) throw new Error(`stream ${names.eventsStream} does not exist at ${options.natsUrl}: start the API (it provisions the streams) or pass --provision`);
  // Publishing to a partition the stream does not list would fail batch after batch; say so once, now.
  const missing = names.eventSubjects().filter((s) => !info.config.subjects?.includes(s));
  if (missing.length) throw new Error(`stream ${names.eventsStream} has no subjects ${missing.join(', ')}: is --partitions ${names.partitions} what the stream was made with?`);
  return { transport: new SdkTransport(new PulseProducer(jetstream(nc), { names }), { producerName: 'pulse-simulator' }), close: () => nc.drain() };
}

function activeIncidents(incidents: readonly Incident[], nowMs: number): string {
  const active = incidents.filter((i) => i.fromMs <= nowMs && nowMs < i.toMs).map((i) => i.kind);
  return active.length ? ` · incident: ${active.join(', ')}` : '';
}

function progressLine(stats: DriverStats, previousSent: number, windowMs: number, incidents: string): string {
  const now = ((stats.sent - previousSent) * 1000) / windowMs;
  return (
    `[${String(Math.round(stats.elapsedMs / 1000)).padStart(5)}s] sent ${count.format(stats.sent)} (${count.format(Math.round(now))}/s now, ${count.format(Math.round(stats.rate))}/s avg, target ${count.format(stats.targetRate)}/s)` +
    ` · accepted ${count.format(stats.accepted)} · rejected ${count.format(stats.rejected)} · duplicates ${count.format(stats.duplicates)} · late ${count.format(stats.late)} (held ${count.format(stats.heldBack)})` +
    ` · in flight ${count.format(stats.inFlight)} · errors ${stats.errors}${stats.lastError ? ` (${stats.lastError})` : ''}${incidents}`
  );
}

async function main(): Promise<number> {
  const options = readCliOptions(process.argv.slice(2), process.env, Date.now());
  if (options.help) {
    console.log(usage);
    return 0;
  }
  const startMs = Date.now();
  const incidents = options.incidents === 'demo' ? demoIncidents(startMs) : [];
  const model = new TrafficModel({
    seed: options.seed,
    startMs,
    late: options.late,
    lateMinMs: options.lateMinMs,
    lateMaxMs: options.lateMaxMs,
    duplicate: options.duplicate,
    malformed: options.malformed,
    outOfOrder: options.outOfOrder,
    incidents,
    products: options.products,
    expectedRate: options.rate,
  });
  const { transport, close } = options.via === 'sdk' ? await sdkTransport(options) : httpTransport(options);
  const driver = new TrafficDriver({ model, transport, rate: options.rate, batchSize: options.batchSize, maxInFlight: options.maxInFlight, durationMs: options.durationMs });

  const target = options.via === 'sdk' ? `${options.natsUrl} (root ${options.names.root}, ${options.names.partitions} partitions)` : options.apiUrl;
  console.log(`simulating ${count.format(options.rate)} events/s via ${options.via} to ${target}, seed ${options.seed}, source ${model.source}, incidents ${options.incidents}`);
  driver.start();

  let previousSent = 0;
  const progress = setInterval(() => {
    const stats = driver.stats();
    console.log(progressLine(stats, previousSent, options.progressEveryMs, activeIncidents(incidents, Date.now())));
    previousSent = stats.sent;
  }, options.progressEveryMs);

  let interrupted = false;
  const onSignal = () => {
    // A second Ctrl-C means now: what is still in flight is retried by nobody, and the ledger is not written.
    if (interrupted) process.exit(130);
    interrupted = true;
    console.log(`stopping: delivering ${count.format(model.heldBack)} held-back late events and waiting for acknowledgements (Ctrl-C again to quit now)`);
    void driver.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const stats = await driver.finished;
  clearInterval(progress);
  await close();
  console.log(`done: ${progressLine(stats, 0, Math.max(stats.elapsedMs, 1), '')}`);
  const totals = driver.ledger.toJSON();
  const revenue = Object.entries(totals.orders.byCurrency)
    .map(([currency, s]) => `${currency} ${(s.revenueMinor / 100).toFixed(2)}`)
    .join(', ');
  console.log(`ledger: ${count.format(totals.events)} unique events · ${count.format(totals.orders.count)} orders (${revenue || 'no revenue'}) · ${count.format(totals.payments.failed)} failed payments · ${count.format(totals.checkouts.failed)} failed checkouts`);
  if (options.ledgerFile) {
    await writeFile(options.ledgerFile, JSON.stringify(totals, null, 2));
    console.log(`ledger written to ${options.ledgerFile}`);
  }
  if (stats.unexpected) console.error(`${stats.unexpected} events were judged differently by Pulse than by the simulator: a contract and the model disagree`);
  return stats.errors || stats.unexpected ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
