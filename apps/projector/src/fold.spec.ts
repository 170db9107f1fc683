import { PulseNames } from '@pulse/contracts';
import { at, orderPlaced, pageViewed } from '@pulse/contracts/testing';
import type { StoredMessage } from './decode.js';
import { foldRecorded, type FoldGroup } from './fold.js';

const names = new PulseNames('t', 1);
const message = (seq: number, events: ReturnType<typeof orderPlaced | typeof pageViewed>[], header = true): StoredMessage => ({
  seq,
  subject: names.eventSubject(events[0].type, 0),
  storedMs: Date.parse(at(5)),
  data: new TextEncoder().encode(JSON.stringify(events)),
  events: header ? events.length : undefined,
});
const sales: FoldGroup = { partition: 0, afterSeq: 0, cutoffMs: null, allowedLatenessMs: 10_000, members: [{ name: 'sales', version: 1 }] };

describe("a rebuild's fold over recorded decisions", () => {
  it('counts messages of types the projection ignores from their header, less the recorded duplicates, without reading them', () => {
    const views = message(2, [pageViewed({ id: 'v1' }), pageViewed({ id: 'v2' }), pageViewed({ id: 'v3' })]);
    views.data = new TextEncoder().encode('not even JSON: proof it is not read');
    const fold = foldRecorded({
      partitions: [0],
      groups: [sales],
      messages: [message(1, [orderPlaced({ id: 'o1', data: { totalMinor: 500 } }), orderPlaced({ id: 'o2', data: { totalMinor: 700 } })]), views],
      skips: [
        { stream_seq: '1', batch_index: 1, reason: 'duplicate' },
        { stream_seq: '2', batch_index: 0, reason: 'duplicate' },
      ],
    });
    expect(fold.tallies.get(0)).toMatchObject({ events: 1 + 2, duplicates: 2, deadLetters: 0 });
    const revenue = fold.applied[0].changes.facts.filter((f) => f.metric === 'revenue' && f.grain === '1m');
    expect(revenue.reduce((sum, f) => sum + f.value, 0)).toBe(500);
  });

  it('reads a message without the header, whatever its type', () => {
    const fold = foldRecorded({ partitions: [0], groups: [sales], messages: [message(1, [pageViewed({ id: 'v1' }), pageViewed({ id: 'v2' })], false)], skips: [] });
    expect(fold.tallies.get(0)).toMatchObject({ events: 2, duplicates: 0 });
  });

  it('folds a batch longer than one decoded part as one, with the decisions recorded for any of its messages', () => {
    // 6,000 orders of 1 cent in three messages: more than a part, so they are parsed in two parts.
    const orders = (seq: number) => message(seq, Array.from({ length: 2000 }, (_, i) => orderPlaced({ id: `o${seq}-${i}`, data: { totalMinor: 1 } })));
    const fold = foldRecorded({ partitions: [0], groups: [sales], messages: [orders(1), orders(2), orders(3)], skips: [{ stream_seq: '3', batch_index: 5, reason: 'duplicate' }] });
    expect(fold.tallies.get(0)).toMatchObject({ events: 5999, duplicates: 1 });
    expect(fold.applied).toHaveLength(1);
    const revenue = fold.applied[0].changes.facts.filter((f) => f.metric === 'revenue' && f.grain === '1m');
    expect(revenue.reduce((sum, f) => sum + f.value, 0)).toBe(5999);
  });
});
