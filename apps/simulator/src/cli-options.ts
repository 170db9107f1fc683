import { parseArgs } from 'node:util';
import { DEFAULT_PARTITIONS, DEFAULT_ROOT, PulseNames } from '@pulse/contracts';

export interface CliOptions {
  rate: number;
  via: 'sdk' | 'http';
  natsUrl: string;
  apiUrl: string;
  token?: string;
  names: PulseNames;
  provision: boolean;
  late: number;
  lateMinMs: number;
  lateMaxMs: number;
  duplicate: number;
  malformed: number;
  outOfOrder: number;
  /** Infinity: until Ctrl-C. */
  durationMs: number;
  incidents: 'demo' | 'none';
  seed: number;
  products: number;
  batchSize: number;
  maxInFlight: number;
  progressEveryMs: number;
  ledgerFile?: string;
  help: boolean;
}

export const usage = `Usage: npm run simulate -- [options]

Simulates a shop's traffic in real time and delivers it to Pulse.

  --rate <n>             events per second (default 500)
  --via sdk|http         the producer SDK straight into NATS, or POST /api/v1/events (default sdk)
  --nats <url>           NATS server for --via sdk (env NATS_URL, default nats://127.0.0.1:4222)
  --api <url>            Pulse API for --via http (env PULSE_API_URL, default http://127.0.0.1:3000)
  --token <token>        bearer token for --via http (env PULSE_TOKEN)
  --root <token>         NATS root of the streams (env PULSE_ROOT, default ${DEFAULT_ROOT})
  --partitions <n>       event partitions (env PULSE_PARTITIONS, default ${DEFAULT_PARTITIONS})
  --provision            create or update the streams first (--via sdk)
  --late <fraction>      events held back and delivered later (default 0.02)
  --late-min <seconds>   shortest hold-back (default 2)
  --late-max <seconds>   longest hold-back (default 7200)
  --duplicate <fraction> events delivered twice (default 0.01)
  --malformed <fraction> invalid events added, for the dead-letter stream (default 0.002)
  --out-of-order <fraction> events swapped within a tick (default 0.05)
  --duration <seconds>   stop after this long; 0 runs until Ctrl-C (default 0)
  --incidents demo|none  an incident every few minutes, or none (default demo)
  --seed <n>             seed of the traffic; the same seed gives the same ids (default: from the clock)
  --products <n>         catalogue size (default 120)
  --batch <n>            events per publish or request (default 500)
  --in-flight <n>        batches awaiting acknowledgement at once (default 8)
  --progress <seconds>   interval of the progress line (default 5)
  --ledger <file>        write the expected totals (the ledger) as JSON when done
  --help`;

/** Reads and checks the command line once, at start-up, naming every problem at once. */
export function readCliOptions(argv: string[], env: NodeJS.ProcessEnv, nowMs: number): CliOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rate: { type: 'string' },
      via: { type: 'string' },
      nats: { type: 'string' },
      api: { type: 'string' },
      token: { type: 'string' },
      root: { type: 'string' },
      partitions: { type: 'string' },
      provision: { type: 'boolean' },
      late: { type: 'string' },
      'late-min': { type: 'string' },
      'late-max': { type: 'string' },
      duplicate: { type: 'string' },
      malformed: { type: 'string' },
      'out-of-order': { type: 'string' },
      duration: { type: 'string' },
      incidents: { type: 'string' },
      seed: { type: 'string' },
      products: { type: 'string' },
      batch: { type: 'string' },
      'in-flight': { type: 'string' },
      progress: { type: 'string' },
      ledger: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const problems: string[] = [];
  const number = (name: string, raw: string | undefined, fallback: number, check: (n: number) => boolean, rule: string): number => {
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (Number.isFinite(n) && check(n)) return n;
    problems.push(`${name} must be ${rule}, got "${raw}"`);
    return fallback;
  };
  const integer = (name: string, raw: string | undefined, fallback: number, min: number) => number(name, raw, fallback, (n) => Number.isInteger(n) && n >= min, `an integer >= ${min}`);
  const share = (name: string, raw: string | undefined, fallback: number) => number(name, raw, fallback, (n) => n >= 0 && n < 0.5, 'a fraction in [0, 0.5)');
  const seconds = (name: string, raw: string | undefined, fallback: number) => number(name, raw, fallback, (n) => n >= 0, 'a number of seconds >= 0') * 1000;
  const oneOf = <T extends string>(name: string, raw: string | undefined, allowed: readonly T[], fallback: T): T => {
    if (raw === undefined) return fallback;
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    return fallback;
  };

  const root = values.root ?? env.PULSE_ROOT ?? DEFAULT_ROOT;
  const partitions = integer('--partitions', values.partitions ?? env.PULSE_PARTITIONS, DEFAULT_PARTITIONS, 1);
  let names = new PulseNames();
  try {
    names = new PulseNames(root, partitions);
  } catch (e) {
    problems.push((e as Error).message);
  }
  const options: CliOptions = {
    rate: number('--rate', values.rate, 500, (n) => n >= 0, 'a number of events per second >= 0'),
    via: oneOf('--via', values.via, ['sdk', 'http'] as const, 'sdk'),
    natsUrl: values.nats ?? env.NATS_URL ?? 'nats://127.0.0.1:4222',
    apiUrl: values.api ?? env.PULSE_API_URL ?? 'http://127.0.0.1:3000',
    token: values.token ?? (env.PULSE_TOKEN || undefined),
    names,
    provision: values.provision ?? false,
    late: share('--late', values.late, 0.02),
    lateMinMs: seconds('--late-min', values['late-min'], 2),
    lateMaxMs: seconds('--late-max', values['late-max'], 7200),
    duplicate: share('--duplicate', values.duplicate, 0.01),
    malformed: share('--malformed', values.malformed, 0.002),
    outOfOrder: number('--out-of-order', values['out-of-order'], 0.05, (n) => n >= 0 && n < 1, 'a fraction in [0, 1)'),
    durationMs: seconds('--duration', values.duration, 0) || Infinity,
    incidents: oneOf('--incidents', values.incidents, ['demo', 'none'] as const, 'demo'),
    // A fresh seed per run by default: a rerun with the same seed repeats its ids, which Pulse drops as duplicates.
    seed: integer('--seed', values.seed, nowMs % 0x7fffffff, 0),
    products: integer('--products', values.products, 120, 3),
    batchSize: integer('--batch', values.batch, 500, 1),
    maxInFlight: integer('--in-flight', values['in-flight'], 8, 1),
    progressEveryMs: seconds('--progress', values.progress, 5) || 5000,
    ledgerFile: values.ledger,
    help: values.help ?? false,
  };
  if (options.lateMinMs < 1 || options.lateMaxMs < options.lateMinMs) problems.push('--late-min must be > 0 and at most --late-max');
  if (options.seed > 0xffffffff) problems.push('--seed must be below 2^32');
  if (problems.length) throw new Error(`invalid options:\n  ${problems.join('\n  ')}\n\n${usage}`);
  return options;
}
