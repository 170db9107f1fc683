// The CPU part of a batch, with no I/O: which events count and what they change in each read model.
import { projectBatch, projections, type ProjectionChanges, type ProjectionName } from '@pulse/domain';
import { recordedEvents, type DecodedEvent, type Skip, type StoredMessage, type UnreadTally } from './decode.js';

/** Versions fed alike from one partition: the same feed position, cutoff and allowed lateness. */
export interface FoldGroup {
  partition: number;
  /** A version fed from a later sequence (taken over from a rebuild) sees only what follows it. */
  afterSeq: number;
  cutoffMs: number | null;
  allowedLatenessMs: number;
  members: Array<{ name: ProjectionName; version: number }>;
}

export interface VersionChanges {
  projection: string;
  version: number;
  changes: ProjectionChanges;
}

/** What a batch counted, per partition, beside the read-model changes. */
export interface PartitionTally {
  events: number;
  duplicates: number;
  deadLetters: number;
  /** Latest event time among the counted events, or null when none was counted. */
  maxEventMs: number | null;
}

export interface Fold {
  tallies: Map<number, PartitionTally>;
  applied: VersionChanges[];
}

/** Runs the domain's folds over a batch's counted events: every feed group of every partition. */
export function foldEvents(
  partitions: readonly number[],
  groups: readonly FoldGroup[],
  counted: readonly DecodedEvent[],
  skipped: { duplicates: readonly DecodedEvent[]; deadLettered: ReadonlyArray<{ partition: number }>; unread?: readonly UnreadTally[] },
): Fold {
  const tallies = new Map<number, PartitionTally>(partitions.map((p) => [p, { events: 0, duplicates: 0, deadLetters: 0, maxEventMs: null }]));
  const byPartition = new Map<number, DecodedEvent[]>(partitions.map((p) => [p, []]));
  for (const e of counted) {
    byPartition.get(e.partition)!.push(e);
    const tally = tallies.get(e.partition)!;
    tally.events++;
    if (tally.maxEventMs === null || e.timeMs > tally.maxEventMs) tally.maxEventMs = e.timeMs;
  }
  for (const d of skipped.duplicates) tallies.get(d.partition)!.duplicates++;
  for (const d of skipped.deadLettered) tallies.get(d.partition)!.deadLetters++;
  for (const u of skipped.unread ?? []) {
    const tally = tallies.get(u.partition)!;
    tally.events += u.events;
    tally.duplicates += u.duplicates;
    tally.deadLetters += u.deadLetters;
  }

  const applied: VersionChanges[] = [];
  for (const group of groups) {
    const events = byPartition.get(group.partition)!.filter((e) => e.seq > group.afterSeq);
    if (!events.length) continue;
    const result = projectBatch({
      partition: group.partition,
      events,
      allowedLatenessMs: group.allowedLatenessMs,
      projections: group.members.map((v) => projections[v.name]),
      cutoffMs: group.cutoffMs ?? undefined,
    });
    result.changes.forEach((changes, i) => applied.push({ projection: group.members[i].name, version: group.members[i].version, changes }));
  }
  return { tallies, applied };
}

export interface RecordedFoldInput {
  partitions: number[];
  groups: FoldGroup[];
  /** Messages above the checkpoints, which the live pipeline has already decided on. */
  messages: StoredMessage[];
  skips: Skip[];
}

/**
 * A rebuild's batch: decode following the live pipeline's recorded decisions, then fold. Messages of
 * event types none of the rebuilt projections consume are counted from their header, not parsed.
 */
export function foldRecorded(input: RecordedFoldInput): Fold {
  const consumed = new Set<string>(input.groups.flatMap((g) => g.members.flatMap((m) => projections[m.name].consumes)));
  const { events, duplicates, deadLettered, unread } = recordedEvents(input.messages, input.skips, consumed);
  return foldEvents(input.partitions, input.groups, events, { duplicates, deadLettered, unread });
}
