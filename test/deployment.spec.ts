import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

// docker-compose.yml cannot run on this machine (no Docker engine), so its consistency with the code is
// checked here: services, build targets, mounted files, and that every variable it sets is one the apps read.
const root = fileURLToPath(new URL('../', import.meta.url));
const read = (path: string) => readFileSync(root + path, 'utf8');

interface Service {
  build?: { context: string; target: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: string[] | Record<string, unknown>;
  volumes?: string[];
}

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service> };
  const services = compose.services;

  it('has the production layout: a three-node NATS cluster, TimescaleDB, several APIs and projectors, the console', () => {
    const names = Object.keys(services);
    expect(names.filter((n) => n.startsWith('nats-'))).toHaveLength(3);
    expect(services.timescaledb.image).toMatch(/^timescale\/timescaledb:/);
    expect(names.filter((n) => n.startsWith('api-')).length).toBeGreaterThanOrEqual(2);
    expect(names.filter((n) => n.startsWith('projector-')).length).toBeGreaterThanOrEqual(2);
    expect(services.web.build?.target).toBe('web');
  });

  it('builds only Dockerfile targets that exist, runs only built entry points, and mounts only files that exist', () => {
    const targets = [...read('Dockerfile').matchAll(/^FROM .* AS (\S+)$/gm)].map((m) => m[1]);
    const entryPoints: Record<string, string> = { 'apps/api/dist/main.js': 'apps/api/src/main.ts', 'apps/projector/dist/main.js': 'apps/projector/src/main.ts', 'apps/projector/dist/migrate-cli.js': 'apps/projector/src/migrate-cli.ts', 'apps/simulator/dist/cli.js': 'apps/simulator/src/cli.ts' };
    for (const [name, s] of Object.entries(services)) {
      if (s.build) expect({ name, target: targets.includes(s.build.target) }).toEqual({ name, target: true });
      const script = s.command?.find((c) => c.endsWith('.js'));
      if (script) expect({ name, source: existsSync(root + entryPoints[script]) }).toEqual({ name, source: true });
      for (const v of s.volumes ?? []) if (v.startsWith('./')) expect(existsSync(root + v.split(':')[0])).toBe(true);
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const d of deps) expect(Object.keys(services)).toContain(d);
    }
  });

  it('sets only variables the apps read, and replicates streams across the cluster', () => {
    const known = new Set(
      ['apps/api/src/config.ts', 'apps/projector/src/config.ts', 'apps/projector/src/migrate-cli.ts', 'apps/simulator/src/cli-options.ts']
        .map(read)
        .flatMap((source) => [...source.matchAll(/\b(PULSE_[A-Z_]+|NATS_URL|DATABASE_URL|PORT|HOST)\b/g)].map((m) => m[1])),
    );
    for (const [name, s] of Object.entries(services)) {
      if (!s.build || s.build.target !== 'services') continue;
      for (const variable of Object.keys(s.environment ?? {})) expect({ name, variable, known: known.has(variable) }).toEqual({ name, variable, known: true });
    }
    expect(services['api-1'].environment?.PULSE_STREAM_REPLICAS).toBe('3');
    expect(services['projector-1'].environment?.NATS_URL.split(',')).toHaveLength(3);
  });
});
