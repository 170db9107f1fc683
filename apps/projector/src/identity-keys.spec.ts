import { KeySet } from './identity-keys.js';

describe('KeySet', () => {
  it('holds each key once, told apart by any of its three words, through its growth', () => {
    const set = new KeySet(12345, 4);
    for (let i = 0; i < 5000; i++) expect(set.add(i, i * 7, -i)).toBe(true);
    for (let i = 0; i < 5000; i++) expect(set.add(i, i * 7, -i)).toBe(false);
    expect(set.size).toBe(5000);
    expect(set.add(4999, 4999 * 7, -4999)).toBe(false);
    expect(set.add(4999, 4999 * 7, 4999)).toBe(true);
    expect(set.add(4999, 0, -4999)).toBe(true);
    expect(set.add(5000, 5000 * 7, -5000)).toBe(true);
    expect(set.size).toBe(5003);
  });

  it('keeps keys that crowd one slot apart', () => {
    // Same first two words: they hash near each other, and probing must still tell them apart.
    const set = new KeySet(0, 16);
    for (let c = 0; c < 100; c++) set.add(1, 2, c);
    expect(set.size).toBe(100);
    for (let c = 0; c < 100; c++) expect(set.add(1, 2, c)).toBe(false);
    expect(set.add(1, 2, 100)).toBe(true);
  });
});
