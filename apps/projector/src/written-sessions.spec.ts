import type { SessionTouch } from '@pulse/domain';
import { WrittenSessions } from './written-sessions.js';

const touch = (sessionId: string, firstMs: number, lastMs: number, channel: string | null = 'web', country: string | null = 'DE'): SessionTouch => ({ sessionId, firstMs, lastMs, channel, country });

describe('WrittenSessions', () => {
  it('leaves out a touch that a committed batch already covers, and keeps one that moves the row', () => {
    const written = new WrittenSessions();
    written.committed('rm_traffic_v1', 0, [touch('s1', 1_000, 15_000), touch('s2', 2_000, 15_000)]);
    const next = [touch('s1', 4_000, 15_000), touch('s2', 2_000, 30_000), touch('s3', 5_000, 15_000)];
    expect(written.needed('rm_traffic_v1', 0, next).map((t) => t.sessionId)).toEqual(['s2', 's3']);
  });

  it('keeps a touch that brings an earlier first sighting, or a channel or country the row lacks', () => {
    const written = new WrittenSessions();
    written.committed('rm_traffic_v1', 0, [touch('s1', 5_000, 15_000, null, null)]);
    expect(written.needed('rm_traffic_v1', 0, [touch('s1', 4_000, 15_000, null, null)])).toHaveLength(1);
    expect(written.needed('rm_traffic_v1', 0, [touch('s1', 5_000, 15_000, 'app', null)])).toHaveLength(1);
    expect(written.needed('rm_traffic_v1', 0, [touch('s1', 5_000, 15_000, null, 'FR')])).toHaveLength(1);
  });

  it('remembers nothing of a batch that did not commit, and keeps schemas and partitions apart', () => {
    const written = new WrittenSessions();
    const batch = [touch('s1', 1_000, 15_000)];
    expect(written.needed('rm_traffic_v1', 0, batch)).toEqual(batch);
    expect(written.needed('rm_traffic_v1', 0, batch)).toEqual(batch);
    written.committed('rm_traffic_v1', 0, batch);
    expect(written.needed('rm_traffic_v1', 0, batch)).toEqual([]);
    expect(written.needed('rm_traffic_v2', 0, batch)).toEqual(batch);
    expect(written.needed('rm_traffic_v1', 1, batch)).toEqual(batch);
    written.forget('rm_traffic_v1');
    expect(written.needed('rm_traffic_v1', 0, batch)).toEqual(batch);
  });

  it('forgets the oldest sessions beyond its limit, which then are written again', () => {
    const written = new WrittenSessions(2);
    written.committed('rm_traffic_v1', 0, [touch('s1', 1_000, 15_000), touch('s2', 1_000, 15_000), touch('s3', 1_000, 15_000)]);
    expect(written.needed('rm_traffic_v1', 0, [touch('s1', 1_000, 15_000), touch('s3', 1_000, 15_000)]).map((t) => t.sessionId)).toEqual(['s1']);
  });
});
