import { identityKey } from './dedup.js';

describe('identityKey', () => {
  const at = Date.UTC(2026, 10, 28, 12, 30, 15);
  const fromStart = 0;

  it('gives every copy of an event the same key, and copies dated a second apart different ones', () => {
    expect(identityKey('shop/web', 'e-1', at + 300, fromStart)).toBe(identityKey('shop/web', 'e-1', at + 900, fromStart));
    expect(identityKey('shop/web', 'e-1', at, fromStart)).not.toBe(identityKey('shop/web', 'e-1', at + 1000, fromStart));
  });

  it('keeps events of different identities apart, also when id and source run together', () => {
    const keys = new Set([identityKey('shop/web', 'e-1', at, fromStart), identityKey('shop/web', 'e-2', at, fromStart), identityKey('shop/we', 'be-1', at, fromStart), identityKey('shop/app', 'e-1', at, fromStart)]);
    expect(keys.size).toBe(4);
  });

  it('sorts keys by the second of their event time, so a batch writes near the newest index pages', () => {
    const keys = [3, 1, 2].map((s) => identityKey('shop/web', `e-${s}`, at + s * 1000, fromStart));
    expect([...keys].sort()).toEqual([1, 2, 3].map((s) => identityKey('shop/web', `e-${s}`, at + s * 1000, fromStart)));
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  it('keys events dated before the switch by their minute, as they were stored before it', () => {
    const switchMs = Date.UTC(2026, 10, 29);
    const before = identityKey('shop/web', 'e-1', at, switchMs);
    // The minute key: the same anywhere in the minute, and the minute's number first.
    expect(before).toBe(identityKey('shop/web', 'e-1', at + 40_000, switchMs));
    expect(before.slice(0, 8)).toBe(Math.floor(at / 60_000).toString(16).padStart(8, '0'));
    expect(identityKey('shop/web', 'e-1', switchMs, switchMs).slice(0, 8)).toBe((switchMs / 1000).toString(16).padStart(8, '0'));
  });
});
