// The projector's CPU per event, apart from NATS and PostgreSQL: decoding stored messages and folding
// them into read-model changes, as the live pipeline does (validate, then fold every projection) and
// as a rebuild does (recorded decisions, one projection). Beside it, in the same run, the floor every
// path pays: UTF-8 decoding and JSON.parse of the same messages. Run after a build:
//   npm run bench:fold [-- --events N --rounds N]
import { PulseNames, partitionOf } from '@pulse/contracts';
import { projections } from '@pulse/domain';
import { TrafficModel } from '@pulse/simulator';
import { decodeMessages } from '../apps/projector/dist/decode.js';
import { foldEvents, foldRecorded } from '../apps/projector/dist/fold.js';

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const total = option('events', 400_000);
const rounds = option('rounds', 5);
const partitions = 4;
const eventsPerMessage = 24;

// Stored messages as the API writes them: one type and partition per message, the simulator's mix.
const names = new PulseNames('fold', partitions);
const startMs = Date.UTC(2026, 10, 28, 12);
const model = new TrafficModel({ seed: 7, startMs, expectedRate: 2_000_000, late: 0.02, lateMaxMs: 60_000, outOfOrder: 0.05 });
const open = new Map();
const messages = [];
let seq = 0;
const encoder = new TextEncoder();
const close = (key) => {
  const m = open.get(key);
  open.delete(key);
  messages.push({ seq: ++seq, subject: m.subject, storedMs: m.storedMs, data: encoder.encode(JSON.stringify(m.events)), events: m.events.length });
};
let generated = 0;
for (let tickMs = startMs; generated < total; tickMs += 100) {
  for (const emission of model.tick(tickMs, 3_333)) {
    if (emission.kind !== 'valid') continue;
    const event = emission.event;
    const partition = generated++ % partitions;
    const key = `${event.type}/${partition}`;
    let m = open.get(key);
    if (!m) open.set(key, (m = { subject: names.eventSubject(event.type, partition), storedMs: tickMs + 50, events: [] }));
    m.events.push(event);
    if (m.events.length === eventsPerMessage) close(key);
  }
}
for (const key of [...open.keys()]) close(key);
const batches = [];
for (let i = 0; i < messages.length; i += 800) batches.push(messages.slice(i, i + 800));
const events = messages.reduce((n, m) => n + m.events, 0);
const partitionList = [...Array(partitions).keys()];
const groupsOf = (names) => partitionList.map((partition) => ({ partition, afterSeq: 0, cutoffMs: null, allowedLatenessMs: 5_000, members: names.map((name) => ({ name, version: 1 })) }));
const limits = { maxFutureSkewMs: 300_000, horizonMs: 7 * 86_400_000 };
const decoder = new TextDecoder();

/** Best of the rounds, in events per minute on one core. */
function measure(work) {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (const batch of batches) work(batch);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return (events / best) * 60_000;
}

const results = { events, messages: messages.length };
results.parseOnly = measure((batch) => {
  for (const m of batch) JSON.parse(decoder.decode(m.data));
});
results.live = measure((batch) => {
  const { events } = decodeMessages(batch, limits, new Date(startMs).toISOString());
  foldEvents(partitionList.filter((p) => batch.some((m) => partitionOf(m.subject) === p)), groupsOf(Object.keys(projections)), events, { duplicates: [], deadLettered: [] });
});
results.rebuild = {};
for (const name of Object.keys(projections)) {
  results.rebuild[name] = measure((batch) => foldRecorded({ partitions: partitionList.filter((p) => batch.some((m) => partitionOf(m.subject) === p)), groups: groupsOf([name]), messages: batch, skips: [] }));
}

const f = (perMin) => `${(perMin / 1e6).toFixed(2)}M/min (${((60e6 / perMin)).toFixed(2)} µs/event, ${(perMin / results.parseOnly).toFixed(2)} of parse-only)`;
console.log(`${events.toLocaleString('en')} events in ${messages.length.toLocaleString('en')} messages, best of ${rounds} rounds, one core`);
console.log(`parse only (UTF-8 + JSON.parse): ${f(results.parseOnly)}`);
console.log(`live (validate + fold all five): ${f(results.live)}`);
for (const [name, perMin] of Object.entries(results.rebuild)) console.log(`rebuild ${name.padEnd(9)} (recorded):  ${f(perMin)}`);
