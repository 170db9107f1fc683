// What the projector's database connections are doing, sampled from pg_stat_activity: running a
// statement, waiting for a row lock another partition holds, idle inside a transaction (the
// projector's own work between statements), or idle (waiting for messages). Averaged per window, in
// connections: with 4 partition workers, "lock 2.0" means half of them wait on each other.
import pg from 'pg';

function stateOf(r) {
  if (r.state === 'active') {
    if (r.wait_event_type === 'Lock') return 'lockWait';
    if (r.wait_event_type === 'IO' || r.wait_event_type === 'LWLock') return 'io';
    if (r.wait_event_type === 'Client') return 'clientRead';
    return 'running';
  }
  if (r.state === 'idle in transaction') return 'inTransaction';
  return 'idle';
}

export class BackendStates {
  constructor(databaseUrl, databaseName, applicationName = 'pulse-projector') {
    this.databaseUrl = databaseUrl;
    this.databaseName = databaseName;
    this.applicationName = applicationName;
    this.samples = [];
  }

  async start(intervalMs = 200) {
    this.client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'pulse-bench-states' });
    this.client.on('error', () => undefined);
    await this.client.connect();
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const started = Date.now();
        try {
          const { rows } = await this.client.query(`SELECT state, wait_event_type FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`, [this.databaseName, this.applicationName]);
          const counts = { running: 0, lockWait: 0, io: 0, clientRead: 0, inTransaction: 0, idle: 0 };
          for (const r of rows) counts[stateOf(r)]++;
          this.samples.push({ at: Date.now(), counts });
        } catch {
          // a gap in the samples, nothing more
        }
        await new Promise((r) => setTimeout(r, Math.max(1, intervalMs - (Date.now() - started))));
      }
    })();
  }

  window(fromMs, toMs) {
    const inside = this.samples.filter((s) => s.at >= fromMs && s.at <= toMs);
    if (!inside.length) return null;
    const out = {};
    for (const key of Object.keys(inside[0].counts)) out[key] = Math.round((inside.reduce((a, s) => a + s.counts[key], 0) / inside.length) * 100) / 100;
    return out;
  }

  async stop() {
    this.running = false;
    await this.loop;
    await this.client?.end().catch(() => undefined);
  }
}
