import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkBackwardCompatible, checkCatalog, eventCatalog, eventTypes, latestVersion, validateData, validateEvent, type EventType } from './index.js';
import { orderPlacedV2 } from './schemas/orders.js';

describe('backward compatibility of the catalogue (BACKWARD_TRANSITIVE)', () => {
  it('holds for every version of every event type against all earlier versions', () => {
    expect(checkCatalog()).toEqual([]);
  });

  // Each breaking change a producer team could plausibly make, checked to fail the build.
  const v2 = orderPlacedV2 as unknown as Record<string, unknown> & { properties: Record<string, Record<string, unknown>>; required: string[] };
  const breaking: Array<[string, Record<string, unknown>, string]> = [
    ['a new required field', { ...v2, required: [...v2.required, 'sessionId'] }, 'field "sessionId" became required'],
    ['a removed field', { ...v2, properties: Object.fromEntries(Object.entries(v2.properties).filter(([k]) => k !== 'country')) }, 'field removed'],
    ['a narrowed enum', { ...v2, properties: { ...v2.properties, channel: { type: 'string', enum: ['web', 'app'] } } }, 'value "marketplace" no longer accepted'],
    ['a changed type', { ...v2, properties: { ...v2.properties, totalMinor: { type: 'string' } } }, 'type "integer" no longer accepted'],
    ['a tighter bound', { ...v2, properties: { ...v2.properties, totalMinor: { type: 'integer', minimum: 1 } } }, 'minimum raised from 0 to 1'],
    ['a different pattern', { ...v2, properties: { ...v2.properties, currency: { type: 'string', pattern: '^(EUR|USD)$' } } }, 'pattern changed'],
  ];
  it.each(breaking)('rejects %s', (_name, v3, problem) => {
    const catalog = { 'order.placed': { versions: [...eventCatalog['order.placed'].versions, v3] } };
    const found = checkCatalog(catalog);
    expect(found.length).toBeGreaterThan(0);
    expect(found.map((f) => f.problem).join('\n')).toContain(problem);
    // transitive: v3 is checked against v1 as well as v2
    expect(new Set(found.map((f) => f.olderVersion))).toEqual(new Set([1, 2]));
  });

  it('accepts the safe evolutions: a new optional field, a wider enum, a looser bound', () => {
    const wider = {
      ...v2,
      properties: {
        ...v2.properties,
        giftWrap: { type: 'boolean' },
        channel: { type: 'string', enum: ['web', 'app', 'marketplace', 'store', 'social'] },
        items: { ...v2.properties.items, maxItems: 1000 },
      },
    };
    expect(checkBackwardCompatible(v2, wider)).toEqual([]);
  });
});

describe('stored sample history', () => {
  const dir = fileURLToPath(new URL('../samples/', import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has samples of every version of every event type', () => {
    const present = new Set(files.map((f) => f.replace(/\.json$/, '')));
    const expected = eventTypes.flatMap((t) => eventCatalog[t].versions.map((_, i) => `${t}.v${i + 1}`));
    expect([...present].sort()).toEqual(expected.sort());
  });

  it.each(files)('%s is valid under its own version and readable by the newest version', (file) => {
    const events = JSON.parse(readFileSync(dir + file, 'utf8')) as Array<{ type: EventType; data: unknown }>;
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) {
      const own = validateEvent(event);
      expect(own.ok ? [] : own.rejection.errors).toEqual([]);
      expect(validateData(event.type, latestVersion(event.type), event.data)).toEqual([]);
    }
  });
});
