import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventTypes, type PulseEvent } from '@pulse/contracts';
import { projections } from './index.js';

// Every stored sample of every type and version (libs/contracts/samples): real shapes of each event.
const samplesDir = fileURLToPath(new URL('../../../contracts/samples/', import.meta.url));
const samples = readdirSync(samplesDir).flatMap((file) => JSON.parse(readFileSync(samplesDir + file, 'utf8')) as PulseEvent[]);

describe('what each projection consumes', () => {
  it.each(Object.values(projections).map((p) => [p.name, p] as const))('%s: every event type it does not list contributes nothing, so a rebuild may skip those unread', (_name, projection) => {
    const ignored = samples.filter((e) => !projection.consumes.includes(e.type));
    expect(new Set(samples.map((e) => e.type))).toEqual(new Set(eventTypes));
    const touched: string[] = [];
    const extras = { stockMovement: () => touched.push('stock movement'), stockLevel: () => touched.push('stock level'), sessionTouch: () => touched.push('session') };
    for (const event of ignored) projection.contribute(event, Date.parse(event.time), (metric) => touched.push(`${event.type} -> ${metric}`), extras);
    expect(touched).toEqual([]);
  });

  it('lists only event types that exist, and each projection uses every type it lists', () => {
    for (const projection of Object.values(projections)) {
      for (const type of projection.consumes) {
        expect(eventTypes).toContain(type);
        let used = false;
        const extras = { stockMovement: () => (used = true), stockLevel: () => (used = true), sessionTouch: () => (used = true) };
        for (const event of samples.filter((e) => e.type === type)) projection.contribute(event, Date.parse(event.time), () => (used = true), extras);
        expect(`${projection.name} ${type} ${used}`).toBe(`${projection.name} ${type} true`);
      }
    }
  });
});
