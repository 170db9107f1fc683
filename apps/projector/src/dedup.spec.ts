import { identityKey } from './dedup.js';

describe('identityKey', () => {
  const at = Date.UTC(2026, 10, 28, 12, 30, 15);

  it('gives every copy of an event the same key, wherever in its minute the copy is dated', () => {
    expect(identityKey('shop/web', 'e-1', at)).toBe(identityKey('shop/web', 'e-1', at + 30_000));
  });

  it('keeps events of different identities apart, also when id and source run together', () => {
    const keys = new Set([identityKey('shop/web', 'e-1', at), identityKey('shop/web', 'e-2', at), identityKey('shop/we', 'be-1', at), identityKey('shop/app', 'e-1', at)]);
    expect(keys.size).toBe(4);
  });

  it('sorts keys by the minute of their event time, so a batch writes near the newest index pages', () => {
    const keys = [3, 1, 2].map((m) => identityKey('shop/web', `e-${m}`, at + m * 60_000));
    expect([...keys].sort()).toEqual([1, 2, 3].map((m) => identityKey('shop/web', `e-${m}`, at + m * 60_000)));
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });
});
