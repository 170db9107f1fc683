import { PulseNames } from '@pulse/contracts';
import { at, orderPlaced, pageViewed, sessionStarted } from '@pulse/contracts/testing';
import type { StoredMessage } from './decode.js';
import { foldRecorded, type FoldGroup, type RecordedFoldInput } from './fold.js';
import { FoldThreads } from './fold-threads.js';

const names = new PulseNames('t', 2);
const message = (seq: number, partition: number, events: Array<ReturnType<typeof orderPlaced | typeof pageViewed | typeof sessionStarted>>): StoredMessage => ({
  seq,
  subject: names.eventSubject(events[0].type, partition),
  storedMs: Date.parse(at(70)),
  data: new TextEncoder().encode(JSON.stringify(events)),
  events: events.length,
});
const group = (partition: number, name: FoldGroup['members'][number]['name']): FoldGroup => ({ partition, afterSeq: 0, cutoffMs: null, allowedLatenessMs: 10_000, members: [{ name, version: 2 }] });

describe('folding on threads', () => {
  const threads = new FoldThreads(1);
  afterAll(() => threads.close());

  it('gives the same fold as this thread, for every partition and version of the batch', async () => {
    const input: RecordedFoldInput = {
      partitions: [0, 1],
      groups: [group(0, 'sales'), group(0, 'traffic'), group(1, 'sales'), group(1, 'traffic')],
      messages: [
        message(1, 0, [orderPlaced({ id: 'o1', time: at(1) }), orderPlaced({ id: 'o2', time: at(5) /* late */ })]),
        message(2, 1, [sessionStarted({ id: 's1', time: at(61) }), pageViewed({ id: 'v1', time: at(62) })]),
        message(3, 0, [pageViewed({ id: 'v2', time: at(63) }), pageViewed({ id: 'v3', time: at(64) })]),
      ],
      skips: [{ stream_seq: '3', batch_index: 1, reason: 'duplicate' }],
    };
    const here = foldRecorded(input);
    expect(here.applied.length).toBe(4);
    expect(await threads.fold(input)).toEqual(here);
  });

  it('fails a batch it cannot fold with the reason, and folds the next one', async () => {
    const broken = message(1, 0, [orderPlaced({ id: 'o1' })]);
    broken.data = new TextEncoder().encode('[{"not":"an event"}]');
    await expect(threads.fold({ partitions: [0], groups: [group(0, 'sales')], messages: [broken], skips: [] })).rejects.toThrow(/folding on a thread failed/);
    const fold = await threads.fold({ partitions: [0], groups: [group(0, 'sales')], messages: [message(2, 0, [orderPlaced({ id: 'o2' })])], skips: [] });
    expect(fold.tallies.get(0)).toMatchObject({ events: 1 });
  });
});
