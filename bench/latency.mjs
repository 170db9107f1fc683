// End-to-end latency of marker orders: sent (POST) -> committed in the read model -> received by
// live clients. A marker counts as arrived when the number of markers seen reaches its ordinal.
import pg from 'pg';
import { io } from 'socket.io-client';
import { MARKER_CURRENCY, MARKER_DIM_KEY } from './markers.mjs';
import { sleep } from './stack.mjs';

export class MarkerTimes {
  constructor() {
    this.sentAt = [];
    this.committedAt = [];
    /** Per marker ordinal, the time each client saw it. */
    this.receivedAt = [];
    this.lost = new Set();
    this.committedCount = 0;
  }

  sent(k, at) {
    this.sentAt[k] = at;
  }

  committed(count, at) {
    for (let k = this.committedCount + 1; k <= count; k++) this.committedAt[k] = at;
    if (count > this.committedCount) this.committedCount = count;
  }

  received(from, to, at) {
    for (let k = from + 1; k <= to; k++) (this.receivedAt[k] ??= []).push(at);
  }

  /** Markers sent within [fromMs, toMs) and their latencies. */
  summary(fromMs, toMs, clients) {
    const commit = [];
    const commitSeries = [];
    const browser = [];
    let sent = 0;
    let committed = 0;
    let receivedByAll = 0;
    for (let k = 1; k < this.sentAt.length; k++) {
      const s = this.sentAt[k];
      if (s === undefined || s < fromMs || s >= toMs) continue;
      sent++;
      if (this.committedAt[k] !== undefined) {
        committed++;
        commit.push(this.committedAt[k] - s);
        commitSeries.push([s - fromMs, this.committedAt[k] - s]);
      }
      const r = this.receivedAt[k] ?? [];
      if (r.length >= clients) receivedByAll++;
      for (const at of r) browser.push(at - s);
    }
    return { markers: sent, committed, receivedByAllClients: receivedByAll, publishToCommit: percentiles(commit), publishToBrowser: percentiles(browser), commitSeries };
  }

  /** Whether every marker sent so far has been committed and reached every client. */
  settled(clients) {
    for (let k = 1; k < this.sentAt.length; k++) {
      if (this.sentAt[k] === undefined || this.lost.has(k)) continue;
      if (this.committedAt[k] === undefined || (this.receivedAt[k]?.length ?? 0) < clients) return false;
    }
    return true;
  }
}

export function percentiles(values) {
  if (!values.length) return { count: 0, p50: null, p99: null, max: null };
  const v = Float64Array.from(values).sort();
  const at = (q) => v[Math.min(v.length - 1, Math.max(0, Math.ceil(q * v.length) - 1))];
  return { count: v.length, p50: Math.round(at(0.5)), p99: Math.round(at(0.99)), max: Math.round(v[v.length - 1]) };
}

/**
 * Publish-to-commit: counts the markers in the 1s read model every `intervalMs`. Reading the served
 * version's table directly is what the API itself does for a series.
 */
export async function startCommitPoller(databaseUrl, times, intervalMs = 20) {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'pulse-bench-poller' });
  client.on('error', () => undefined);
  await client.connect();
  const { rows } = await client.query(`SELECT version FROM pulse.projection_versions WHERE projection = 'sales' AND status = 'live'`);
  const sql = `SELECT coalesce(sum(value), 0)::bigint AS n FROM rm_sales_v${rows[0].version}.facts_1s WHERE metric = 'orders' AND dim_key = $1`;
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = Date.now();
      try {
        const r = await client.query(sql, [MARKER_DIM_KEY]);
        times.committed(Number(r.rows[0].n), Date.now());
      } catch {
        // a slow or failed poll only coarsens the measurement; the next one catches up
      }
      await sleep(Math.max(1, intervalMs - (Date.now() - started)));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await client.end().catch(() => undefined);
    },
  };
}

/**
 * Publish-to-browser: `count` socket.io clients, each with its own connection, watching the markers'
 * 1s series as the console would. Each keeps bucket -> value from the snapshot and the updates (an
 * update carries only the buckets that changed) and the total of its map: the markers it has seen.
 */
export async function connectWatchers(apiUrl, token, count, times, log) {
  const clients = [];
  const subscription = { id: 'm', metric: 'orders', grain: '1s', windowSeconds: 120, filters: { currency: MARKER_CURRENCY } };
  let problems = 0;
  for (let i = 0; i < count; i++) {
    const socket = io(`${apiUrl}/live`, { auth: { token }, transports: ['websocket'], forceNew: true, reconnectionDelay: 200 });
    const state = { socket, values: new Map(), total: 0, subscribed: false };
    const apply = (points, at) => {
      for (const p of points) {
        const v = p.value ?? 0;
        state.total += v - (state.values.get(p.t) ?? 0);
        state.values.set(p.t, v);
      }
      // Totals only grow; a smaller one would mean a bucket was revised down, which markers never are.
      if (state.total > state.seen) {
        times.received(state.seen, state.total, at);
        state.seen = state.total;
      }
    };
    state.seen = 0;
    socket.on('update', (msg) => {
      if (msg?.id !== 'm') return;
      const at = Date.now();
      apply(msg.series.flatMap((s) => s.points), at);
    });
    // (Re)subscribing gives a full snapshot of the window: nothing is missed across a reconnect.
    socket.on('connect', async () => {
      try {
        const ack = await socket.timeout(10_000).emitWithAck('subscribe', subscription);
        if (!ack?.ok) throw new Error(`${ack?.code}: ${ack?.detail}`);
        apply(ack.snapshot.series[0]?.points ?? [], Date.now());
        state.subscribed = true;
      } catch (e) {
        if (problems++ < 3) log(`watcher ${i}: subscribe failed: ${e.message}`);
      }
    });
    socket.on('connect_error', (e) => {
      if (problems++ < 3) log(`watcher ${i}: connect_error ${e.message}`);
    });
    clients.push(state);
  }
  const until = Date.now() + 30_000;
  while (clients.some((c) => !c.subscribed) && Date.now() < until) await sleep(100);
  const subscribed = clients.filter((c) => c.subscribed).length;
  if (subscribed < count) throw new Error(`only ${subscribed} of ${count} live clients subscribed within 30 s`);
  return {
    count,
    close() {
      for (const c of clients) c.socket.close();
    },
  };
}
