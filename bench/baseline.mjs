// Baseline: the same messages Pulse stores, published to and consumed from JetStream with no
// processing at all. Events come from the same traffic model in batches of the same size, packed by
// the producer SDK exactly as the API packs them (one event type and partition per message), and
// published with as many batches in flight as the load generator keeps requests in flight.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { PulseNames } from '@pulse/contracts';
import { ensureStreams, PulseProducer } from '@pulse/contracts/sdk';
import { TrafficModel } from '@pulse/simulator';
import { sleep, stopChild } from './stack.mjs';

const ORIGINAL_ID = Symbol('originalId');

/** A pool of batches, generated before the clock starts so that the model's cost is not measured. */
function batchPool(events, batchSize, traffic) {
  const model = new TrafficModel({ seed: 4242, startMs: Date.now() - 3_600_000, expectedRate: 50_000, ...traffic, malformed: 0 });
  const batches = [];
  let now = Date.now() - 3_000_000;
  let pending = [];
  while (batches.length * batchSize < events) {
    for (const e of model.tick(now, 5000)) if (e.kind !== 'malformed') pending.push(e.event);
    now += 100;
    while (pending.length >= batchSize) batches.push(pending.splice(0, batchSize));
  }
  return batches;
}

export async function runBaseline({ nc, jsm, natsUrl, root, partitions, events, batchSize, inFlight, traffic, repoRoot, usage, log, cleanup }) {
  const names = new PulseNames(root, partitions);
  await ensureStreams(jsm, names);
  cleanup.add(`delete baseline streams ${names.eventsStream}, ${names.deadLetterStream}`, async () => {
    for (const s of [names.eventsStream, names.deadLetterStream]) await jsm.streams.delete(s).catch(() => undefined);
  });

  // Model time runs far ahead of the clock here: a pool of 200k events is reused with fresh ids per
  // round (JetStream would otherwise drop the repeats as duplicate messages).
  const pool = batchPool(Math.min(events, 200_000), batchSize, traffic);
  const consumer = fork(join(repoRoot, 'bench', 'baseline-consumer.mjs'), [JSON.stringify({ natsUrl, root, partitions })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  cleanup.add('stop the baseline consumer', () => stopChild(consumer, 2000));
  let progress = { events: 0, messages: 0, lastAt: 0 };
  const done = new Promise((resolve, reject) => {
    consumer.on('message', (m) => {
      if (m.type === 'progress') progress = m;
      if (m.type === 'done') resolve(m);
    });
    consumer.on('exit', (code) => reject(new Error(`the baseline consumer exited (${code})`)));
  });
  await new Promise((resolve, reject) => {
    consumer.on('message', (m) => m.type === 'ready' && resolve());
    consumer.once('exit', () => reject(new Error('the baseline consumer exited before it was ready')));
  });
  usage.track('baselineConsumer', consumer.pid);

  // Its own connection, as the API's: the SDK's publisher options (PUBLISHER_CONNECTION).
  const producer = await PulseProducer.connect(natsUrl, { names });
  cleanup.add('close the baseline publisher', () => producer.close().catch(() => undefined));
  let next = 0;
  let published = 0;
  let messages = 0;
  const rounds = Math.ceil(events / (pool.length * batchSize));
  const total = Math.min(events, rounds * pool.length * batchSize);
  usage.sample();
  const startedAt = Date.now();
  const ticker = setInterval(() => log(`baseline: published ${published.toLocaleString('en')} events, consumed ${progress.events.toLocaleString('en')}`), 5000);
  const worker = async () => {
    while (next * batchSize < total) {
      const i = next++;
      const round = Math.floor(i / pool.length);
      const batch = pool[i % pool.length];
      for (const e of batch) {
        e[ORIGINAL_ID] ??= e.id;
        e.id = `${e[ORIGINAL_ID]}.${round}`;
      }
      const report = await producer.publishValidated(batch);
      published += report.events;
      messages += report.messages - report.duplicateMessages;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const publishedAt = Date.now();
  // A message JetStream recognised as a repeat (same Nats-Msg-Id: a duplicate event alone in its
  // message) is not stored: completion is counted in stored messages, the rate in the events they hold.
  consumer.send({ type: 'expect', messages });
  const end = await Promise.race([done, sleep(120_000).then(() => { throw new Error(`the baseline consumer got ${progress.messages} of ${messages} messages in 2 minutes`); })]);
  clearInterval(ticker);
  const endedAt = end.lastAt;
  usage.sample();
  const seconds = (endedAt - startedAt) / 1000;
  const consumed = end.events;
  const window = usage.window(startedAt, endedAt);
  usage.untrack('baselineConsumer');
  await stopChild(consumer, 2000);
  return {
    events: consumed,
    published,
    messages,
    eventsPerMessage: Math.round((consumed / messages) * 10) / 10,
    seconds: Math.round(seconds * 100) / 100,
    publishSeconds: Math.round((publishedAt - startedAt) / 10) / 100,
    eventsPerMinute: Math.round((consumed / seconds) * 60),
    cpu: window.cpu,
    machineBusyPercent: window.machineBusyPercent,
  };
}
