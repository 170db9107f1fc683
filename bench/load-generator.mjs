// The producers: a child process of the benchmark that runs the simulator's traffic model in real
// time and POSTs it to /api/v1/events in batches, with marker orders riding in the same requests.
// It runs apart from the benchmark's watchers so that its CPU shows separately and so that 200
// socket clients do not disturb its timing. The parent steers it over IPC.
import { HttpTransport, TrafficDriver, TrafficModel } from '@pulse/simulator';
import { markerOrder } from './markers.mjs';

const options = JSON.parse(process.argv[2]);
const http = new HttpTransport({ apiUrl: options.apiUrl, token: options.token });

let markersDue = 0;
let markerOrdinal = 0;
let markerTimer;

/**
 * Wraps the HTTP transport: markers that fell due since the last request are appended to the next
 * batch, so they travel exactly as the traffic does. A marker's ordinal and send time are fixed when
 * its request goes out.
 */
const transport = {
  async deliver(batch) {
    const n = markersDue;
    markersDue = 0;
    if (!n) return http.deliver(batch);
    const at = Date.now();
    const sent = [];
    const markers = [];
    for (let i = 0; i < n; i++) {
      const k = ++markerOrdinal;
      sent.push({ k, at });
      markers.push({ kind: 'valid', event: markerOrder(options.markerSource, k, at), late: false });
    }
    process.send({ type: 'markers', sent });
    try {
      const delivery = await http.deliver([...batch, ...markers]);
      const refused = delivery.rejected.filter((i) => i >= batch.length).map((i) => sent[i - batch.length].k);
      if (refused.length) process.send({ type: 'markers-lost', ks: refused, reason: 'rejected by the API' });
      return { ...delivery, rejected: delivery.rejected.filter((i) => i < batch.length) };
    } catch (e) {
      process.send({ type: 'markers-lost', ks: sent.map((s) => s.k), reason: e.message });
      throw e;
    }
  },
};

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
      const model = new TrafficModel({ seed: msg.seed, startMs: Date.now(), expectedRate: msg.rate, ...options.traffic });
      current = new TrafficDriver({ model, transport, rate: msg.rate, batchSize: options.batchSize, maxInFlight: options.maxInFlight });
      current.start();
      markerTimer = setInterval(() => markersDue++, options.markerEveryMs);
      process.send({ type: 'started', at: Date.now() });
    } else if (msg.type === 'stop') {
      clearInterval(markerTimer);
      markersDue = 0;
      const driver = current;
      // Late events still held back are delivered now, so the ledger and the stream agree at the end.
      const stats = await driver.stop({ flushLate: true });
      finished.push(driver);
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
