import { readCliOptions } from './cli-options.js';

describe('the command line', () => {
  it('takes its defaults from the environment, and flags over them', () => {
    const env = { NATS_URL: 'nats://nats:4222', PULSE_API_URL: 'http://api:3000', PULSE_TOKEN: 'T', PULSE_ROOT: 'demo', PULSE_PARTITIONS: '8' };
    const fromEnv = readCliOptions([], env, 1234);
    expect(fromEnv).toMatchObject({ natsUrl: 'nats://nats:4222', apiUrl: 'http://api:3000', token: 'T', rate: 500, via: 'sdk', seed: 1234, durationMs: Infinity, incidents: 'demo' });
    expect([fromEnv.names.root, fromEnv.names.partitions]).toEqual(['demo', 8]);
    const flags = readCliOptions(['--rate', '2000', '--via', 'http', '--root', 'pulse', '--partitions', '4', '--duration', '60', '--late', '0.1', '--out-of-order', '0.2', '--seed', '1', '--incidents', 'none'], env, 1234);
    expect(flags).toMatchObject({ rate: 2000, via: 'http', durationMs: 60_000, late: 0.1, outOfOrder: 0.2, seed: 1, incidents: 'none' });
    expect([flags.names.root, flags.names.partitions]).toEqual(['pulse', 4]);
  });

  it('names every wrong option at once', () => {
    expect(() => readCliOptions(['--rate', 'fast', '--via', 'ftp', '--partitions', '0'], {}, 0)).toThrow(/--partitions must be an integer >= 1[\s\S]*--rate must be[\s\S]*--via must be one of sdk, http/);
    expect(() => readCliOptions(['--speed', '3'], {}, 0)).toThrow(/speed/);
  });
});
