import { checkEvents, validateEvent } from './index.js';
import { orderPlaced } from './testing/builders.js';

describe('validating an event against its contract', () => {
  it('accepts a well-formed order.placed of each version', () => {
    expect(validateEvent(orderPlaced()).ok).toBe(true);
    expect(validateEvent(orderPlaced({ dataversion: 2, data: { sessionId: 's-1', discountMinor: 500 } })).ok).toBe(true);
  });

  it('names the field and the rule that a bad line item breaks', () => {
    const result = validateEvent(orderPlaced({ data: { items: [{ sku: 'SKU-1', quantity: 0, unitPriceMinor: 100, category: 'shoes' }] } }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.rejection.code).toBe('invalid_data');
    expect(result.rejection.errors).toContainEqual({ pointer: '/data/items/0/quantity', field: 'data.items[0].quantity', message: 'must be >= 1' });
    expect(result.rejection.reason).toContain('data.items[0].quantity must be >= 1');
  });

  it('reports every problem of an event at once, in the envelope and in the data', () => {
    const result = validateEvent({ ...orderPlaced({ data: { totalMinor: 19.99, currency: 'euro' } }), source: 'has spaces', Source: 'x' });
    expect(!result.ok && result.rejection.code).toBe('invalid_envelope');
    expect(!result.ok && result.rejection.errors.map((e) => e.field).sort()).toEqual(['Source', 'source']);
    const data = validateEvent(orderPlaced({ data: { totalMinor: 19.99, currency: 'euro' } }));
    expect(!data.ok && data.rejection.errors.map((e) => e.field).sort()).toEqual(['data.currency', 'data.totalMinor']);
  });

  it('rejects floats for money, because amounts are integer minor units', () => {
    const result = validateEvent(orderPlaced({ data: { totalMinor: 19.99 } }));
    expect(!result.ok && result.rejection.errors.map((e) => `${e.field} ${e.message}`)).toEqual(['data.totalMinor must be integer']);
  });

  it('rejects a field that v1 does not have, pointing at the version', () => {
    const result = validateEvent(orderPlaced({ dataversion: 1, data: { couponCode: 'SPRING' } }));
    expect(!result.ok && result.rejection.errors[0]).toMatchObject({ field: 'data.couponCode', message: expect.stringContaining('dataversion') });
  });

  it('tells an unknown type apart from an unknown version', () => {
    const unknownType = validateEvent({ ...orderPlaced(), type: 'order.shipped' });
    expect(!unknownType.ok && unknownType.rejection.code).toBe('unknown_type');
    expect(!unknownType.ok && unknownType.rejection.reason).toContain('order.shipped');
    const unknownVersion = validateEvent(orderPlaced({ dataversion: 7 }));
    expect(!unknownVersion.ok && unknownVersion.rejection).toMatchObject({ code: 'unknown_version', reason: 'dataversion 7 of order.placed is not known; known versions: 1, 2' });
  });

  it('requires an event time with a zone and rejects unknown envelope attributes', () => {
    const noZone = validateEvent({ ...orderPlaced(), time: '2026-11-28T10:00:00' });
    expect(!noZone.ok && noZone.rejection.errors[0].field).toBe('time');
    const typo = validateEvent({ ...orderPlaced(), Source: 'x' });
    expect(!typo.ok && typo.rejection.errors[0].field).toBe('Source');
  });

  it('keeps every rejected element of a batch with its index and original content', () => {
    const good = orderPlaced({ id: 'a' });
    const bad = orderPlaced({ id: 'b', data: { currency: 'euro' } });
    const { accepted, rejected } = checkEvents([good, bad, 42]);
    expect(accepted.map((e) => e.id)).toEqual(['a']);
    expect(rejected.map((r) => [r.index, r.id, r.rejection.code])).toEqual([
      [1, 'b', 'invalid_data'],
      [2, undefined, 'not_an_object'],
    ]);
    expect(JSON.parse(rejected[0].original)).toEqual(bad);
  });
});
