import { identityBucketOf } from './subjects.js';

describe('identityBucketOf', () => {
  it('keeps every identity in the bucket it had when routing was first released, so copies of an event meet in one partition across versions', () => {
    expect(identityBucketOf('shop/web', 'e-1')).toBe(153);
    expect(identityBucketOf('shop/app', 'order-42')).toBe(226);
    expect(identityBucketOf('pos/berlin', 'Ω-7')).toBe(53);
    expect(identityBucketOf('', '')).toBe(31);
  });

  it('tells apart identities whose source and id run together', () => {
    expect(identityBucketOf('shop/web', 'e-1')).not.toBe(identityBucketOf('shop/we', 'be-1'));
  });
});
