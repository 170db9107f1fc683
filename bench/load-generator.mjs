// The producers: a child process of the benchmark that runs the simulator's traffic model and POSTs
// it to /api/v1/events in batches, with marker orders riding in the same requests. It runs apart from
// the benchmark's watchers so that its CPU shows separately and so that 200 socket clients do not
// disturb its timing. The parent steers it over IPC.
//
// Real producers do not run on Pulse's machine, so what this process spends is kept out of the
// measured window as far as it can be: before a step it generates the step's whole traffic (the
// model ticked at the wall-clock times the events will be sent) and serialises every request body;
// during the step it only sends them on time; counting what was accepted into the ledger waits for
// the step's end.
import { HttpTransport, Ledger, TrafficModel } from '@pulse/simulator';
import { markerOrder } from './markers.mjs';

const options = JSON.parse(process.argv[2]);
const http = new HttpTransport({ apiUrl: options.apiUrl, token: options.token });
const TICK_MS = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let markersDue = 0;
let markerOrdinal = 0;
let markerTimer;
/** Microseconds to generate and serialise one event, learnt from each preparation; a first guess before any. */
let prepareMicrosPerEvent = 8;

/** Markers that fell due since the last request, appended to the next one so they travel exactly as the traffic does. */
function withMarkers(body) {
  const n = markersDue;
  markersDue = 0;
  if (!n) return { body, markers: [] };
  const at = Date.now();
  const markers = [];
  const parts = [];
  for (let i = 0; i < n; i++) {
    const k = ++markerOrdinal;
    markers.push({ k, at });
    parts.push(JSON.stringify(markerOrder(options.markerSource, k, at)));
  }
  process.send({ type: 'markers', sent: markers });
  return { body: Buffer.concat([body.subarray(0, body.length - 1), Buffer.from(`,${parts.join(',')}]`)]), markers };
}

const KIND = { valid: 0, late: 1, duplicate: 2, malformed: 3 };

/**
 * A request ready to send: its body, and what kind of emission each event is. The events themselves
 * are not kept (the ledger reads them back from the body after the step): a heap of a million live
 * event objects would cost the step garbage-collection time. The body is kept as bytes, outside the
 * JavaScript heap, for the same reason, and so that sending it does not encode it again.
 */
function prepared(emissions, dueAt) {
  const kinds = new Uint8Array(emissions.length);
  emissions.forEach((e, i) => (kinds[i] = e.kind === 'valid' ? (e.late ? KIND.late : KIND.valid) : KIND[e.kind]));
  return { dueAt, kinds, body: Buffer.from(JSON.stringify(emissions.map((e) => e.event))) };
}

/**
 * One step's traffic, prepared before it starts and then sent on schedule: batches are cut per tick
 * of the model as the simulator's driver cuts them, each due when its tick comes.
 */
class PreparedRun {
  ledger = new Ledger();
  counters = { generated: 0, sent: 0, accepted: 0, rejected: 0, duplicates: 0, late: 0, unexpected: 0, failed: 0, errors: 0, requests: 0, retries: 0, inFlight: 0 };
  lastError;
  batches = [];
  delivered = [];
  inFlight = new Set();
  stopping = false;
  wake = () => undefined;

  constructor({ seed, rate, seconds }) {
    this.rate = rate;
    const events = Math.ceil(rate * seconds);
    const started = Date.now();
    // Planned with room to spare: a start in the past would make every event look late.
    this.startMs = started + Math.max(1000, 1.5 * prepareMicrosPerEvent * events / 1000 + 500);
    this.model = new TrafficModel({ seed, startMs: this.startMs, expectedRate: rate, ...options.traffic });
    let owed = 0;
    for (let t = this.startMs; t < this.startMs + seconds * 1000; t += TICK_MS) {
      owed += (rate * TICK_MS) / 1000;
      const count = Math.floor(owed);
      owed -= count;
      const emissions = this.model.tick(t, count);
      for (let i = 0; i < emissions.length; i += options.batchSize) this.batches.push(prepared(emissions.slice(i, i + options.batchSize), t));
    }
    prepareMicrosPerEvent = ((Date.now() - started) * 1000) / Math.max(1, events);
    this.preparedInMs = Date.now() - started;
  }

  /** Sends the prepared requests from the planned start on; `stop()` waits for this. */
  start() {
    this.running = this.run();
  }

  async run() {
    const wait = this.startMs - Date.now();
    if (wait > 0) await sleep(wait);
    this.startedAt = Date.now();
    markersDue = 0;
    markerTimer = setInterval(() => markersDue++, options.markerEveryMs);
    process.send({ type: 'started', at: this.startedAt, preparedInMs: this.preparedInMs, lateStartMs: Math.max(0, -wait) });
    for (const batch of this.batches) {
      if (this.stopping) break;
      const due = batch.dueAt - Date.now();
      if (due > 0) await new Promise((r) => ((this.wake = r), setTimeout(r, due)));
      if (this.stopping) break;
      while (this.inFlight.size >= options.maxInFlight) await Promise.race(this.inFlight);
      this.send(batch);
    }
  }

  send(batch) {
    const c = this.counters;
    c.generated += batch.kinds.length;
    c.inFlight += batch.kinds.length;
    const { body, markers } = withMarkers(batch.body);
    const delivery = http
      .deliverBody(body, batch.kinds.length + markers.length)
      .then(
        ({ rejected, retries }) => {
          const refusedMarkers = rejected.filter((i) => i >= batch.kinds.length).map((i) => markers[i - batch.kinds.length].k);
          if (refusedMarkers.length) process.send({ type: 'markers-lost', ks: refusedMarkers, reason: 'rejected by the API' });
          const refused = rejected.filter((i) => i < batch.kinds.length);
          c.requests += 1;
          c.retries += retries;
          c.sent += batch.kinds.length;
          c.rejected += refused.length;
          c.accepted += batch.kinds.length - refused.length;
          this.delivered.push({ body: batch.body, kinds: batch.kinds, refused });
        },
        (e) => {
          if (markers.length) process.send({ type: 'markers-lost', ks: markers.map((m) => m.k), reason: e.message });
          c.errors += 1;
          c.failed += batch.kinds.length;
          this.lastError = e.message;
        },
      )
      .finally(() => {
        c.inFlight -= batch.kinds.length;
        this.inFlight.delete(delivery);
      });
    this.inFlight.add(delivery);
  }

  /** Stops sending, delivers the late events the model still holds back, waits for every answer, then counts what was accepted. */
  async stop() {
    this.stopping = true;
    this.wake();
    await this.running;
    const rest = this.model.flush();
    for (let i = 0; i < rest.length; i += options.batchSize) {
      while (this.inFlight.size >= options.maxInFlight) await Promise.race(this.inFlight);
      this.send(prepared(rest.slice(i, i + options.batchSize), Date.now()));
    }
    await Promise.all(this.inFlight);
    this.endedAt = Date.now();
    const c = this.counters;
    for (const { body, kinds, refused } of this.delivered) {
      const refusedSet = new Set(refused);
      const events = JSON.parse(body.toString('utf8'));
      events.forEach((event, i) => {
        const kind = kinds[i];
        if (refusedSet.has(i)) {
          if (kind !== KIND.malformed) c.unexpected += 1;
          return;
        }
        if (kind === KIND.malformed) {
          c.unexpected += 1;
          return;
        }
        if (kind === KIND.duplicate) c.duplicates += 1;
        else if (kind === KIND.late) c.late += 1;
        this.ledger.add(event);
      });
    }
    this.delivered = [];
    this.batches = [];
    return this.stats();
  }

  stats() {
    const end = this.endedAt ?? Date.now();
    const elapsedMs = this.startedAt ? end - this.startedAt : 0;
    return { ...this.counters, elapsedMs, targetRate: this.rate, lastError: this.lastError, heldBack: this.model.heldBack, rate: elapsedMs > 0 ? (this.counters.sent * 1000) / elapsedMs : 0 };
  }
}

const finished = [];
let current;

const COUNTERS = ['generated', 'sent', 'accepted', 'rejected', 'duplicates', 'late', 'unexpected', 'failed', 'errors', 'requests', 'retries'];

/** Counters over every step so far, the running one included. */
function totals() {
  const t = Object.fromEntries(COUNTERS.map((k) => [k, 0]));
  for (const d of [...finished, ...(current ? [current] : [])]) {
    const s = d.stats();
    for (const k of COUNTERS) t[k] += s[k];
    if (s.lastError) t.lastError = s.lastError;
  }
  t.inFlight = current?.stats().inFlight ?? 0;
  t.heldBack = current?.stats().heldBack ?? 0;
  t.markers = markerOrdinal;
  return t;
}

function add(counts, key, by = 1) {
  counts[key] = (counts[key] ?? 0) + by;
}

/** What the read models must total, from every step's ledger (each step has its own seed, so its own event identities). */
function expected() {
  const e = { events: 0, orders: 0, units: 0, revenueMinor: {}, categoryRevenueMinor: {}, sessions: 0, pageViews: 0, productViews: 0, cartAdds: 0, searches: 0, zeroResultSearches: 0, checkoutsStarted: 0, checkoutsFailed: 0, paymentsSucceeded: 0, paymentsFailed: 0, cancellations: 0, refunds: 0, refundedMinor: {}, receivedUnits: 0 };
  for (const d of finished) {
    const l = d.ledger.toJSON();
    e.events += l.events;
    e.orders += l.orders.count;
    e.units += l.orders.units;
    for (const [c, s] of Object.entries(l.orders.byCurrency)) add(e.revenueMinor, c, s.revenueMinor);
    for (const byCurrency of Object.values(l.items.byCategory)) for (const [c, s] of Object.entries(byCurrency)) add(e.categoryRevenueMinor, c, s.revenueMinor);
    e.sessions += l.clickstream.sessions;
    e.pageViews += l.clickstream.pageViews;
    e.productViews += l.clickstream.productViews;
    e.cartAdds += l.clickstream.cartAdds;
    e.searches += l.clickstream.searches;
    e.zeroResultSearches += l.clickstream.zeroResultSearches;
    e.checkoutsStarted += l.checkouts.started;
    e.checkoutsFailed += l.checkouts.failed;
    e.paymentsSucceeded += l.payments.succeeded;
    e.paymentsFailed += l.payments.failed;
    e.cancellations += l.cancellations.count;
    e.refunds += l.refunds.count;
    for (const [c, v] of Object.entries(l.refunds.amountMinor)) add(e.refundedMinor, c, v);
    e.receivedUnits += l.stock.receivedUnits;
  }
  return e;
}

// An orderly exit on SIGTERM, so that a --profile run gets this process's CPU profile too.
process.on('SIGTERM', () => process.exit(0));

setInterval(() => process.send({ type: 'progress', at: Date.now(), totals: totals() }), 250).unref();

process.on('message', async (msg) => {
  try {
    if (msg.type === 'start') {
      // One model per step, stocked for the step's rate, as the demo's simulator would be.
      current = new PreparedRun({ seed: msg.seed, rate: msg.rate, seconds: msg.seconds });
      current.start();
    } else if (msg.type === 'stop') {
      clearInterval(markerTimer);
      markersDue = 0;
      const run = current;
      // Late events still held back are delivered now, so the ledger and the stream agree at the end.
      const stats = await run.stop();
      finished.push(run);
      current = undefined;
      process.send({ type: 'stopped', at: Date.now(), stats, totals: totals() });
    } else if (msg.type === 'expected') {
      process.send({ type: 'expected', expected: expected(), totals: totals() });
    }
  } catch (e) {
    process.send({ type: 'error', message: e.stack ?? e.message });
  }
});

process.send({ type: 'ready' });
