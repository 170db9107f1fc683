// The CPU part of a batch, with no I/O: which events count and what they change in each read model.
import { BatchFold, projections, type ProjectionChanges, type ProjectionName } from '@pulse/domain';
import { recordedEvents, skipsBySequence, type DecodedEvent, type Skip, type StoredMessage, type UnreadTally } from './decode.js';

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

interface Skipped {
  duplicates: readonly DecodedEvent[];
  deadLettered: ReadonlyArray<{ partition: number }>;
  unread?: readonly UnreadTally[];
}

/** The domain's folds over a batch, every feed group of every partition, fed its counted events in parts. */
class Folding {
  private readonly tallies: Map<number, PartitionTally>;
  private readonly folds: Array<{ group: FoldGroup; fold: BatchFold; used: boolean }>;

  constructor(partitions: readonly number[], groups: readonly FoldGroup[]) {
    this.tallies = new Map(partitions.map((p) => [p, { events: 0, duplicates: 0, deadLetters: 0, maxEventMs: null }]));
    this.folds = groups.map((group) => ({
      group,
      used: false,
      fold: new BatchFold({
        partition: group.partition,
        allowedLatenessMs: group.allowedLatenessMs,
        projections: group.members.map((v) => projections[v.name]),
        cutoffMs: group.cutoffMs ?? undefined,
      }),
    }));
  }

  add(counted: readonly DecodedEvent[], skipped: Skipped): void {
    const byPartition = new Map<number, DecodedEvent[]>();
    for (const e of counted) {
      const list = byPartition.get(e.partition);
      if (list) list.push(e);
      else byPartition.set(e.partition, [e]);
      const tally = this.tallies.get(e.partition)!;
      tally.events++;
      if (tally.maxEventMs === null || e.timeMs > tally.maxEventMs) tally.maxEventMs = e.timeMs;
    }
    for (const d of skipped.duplicates) this.tallies.get(d.partition)!.duplicates++;
    for (const d of skipped.deadLettered) this.tallies.get(d.partition)!.deadLetters++;
    for (const u of skipped.unread ?? []) {
      const tally = this.tallies.get(u.partition)!;
      tally.events += u.events;
      tally.duplicates += u.duplicates;
      tally.deadLetters += u.deadLetters;
    }
    for (const f of this.folds) {
      const events = byPartition.get(f.group.partition)?.filter((e) => e.seq > f.group.afterSeq);
      if (!events?.length) continue;
      f.fold.add(events);
      f.used = true;
    }
  }

  finish(): Fold {
    const applied: VersionChanges[] = [];
    for (const { group, fold, used } of this.folds) {
      if (!used) continue;
      fold.result().changes.forEach((changes, i) => applied.push({ projection: group.members[i].name, version: group.members[i].version, changes }));
    }
    return { tallies: this.tallies, applied };
  }
}

/** Runs the domain's folds over a batch's counted events: every feed group of every partition. */
export function foldEvents(partitions: readonly number[], groups: readonly FoldGroup[], counted: readonly DecodedEvent[], skipped: Skipped): Fold {
  const folding = new Folding(partitions, groups);
  folding.add(counted, skipped);
  return folding.finish();
}

export interface RecordedFoldInput {
  partitions: number[];
  groups: FoldGroup[];
  /** Messages above the checkpoints, which the live pipeline has already decided on. */
  messages: StoredMessage[];
  skips: Skip[];
}

/** Events decoded at a time in a rebuild's batch: a part's parsed events die young, whatever the batch's length. */
const PART_EVENTS = 4000;

/**
 * A rebuild's batch: decode following the live pipeline's recorded decisions, then fold, a part at a
 * time. Messages of event types none of the rebuilt projections consume are counted from their
 * header, not parsed.
 */
export function foldRecorded(input: RecordedFoldInput): Fold {
  const consumed = new Set<string>(input.groups.flatMap((g) => g.members.flatMap((m) => projections[m.name].consumes)));
  const folding = new Folding(input.partitions, input.groups);
  const skipped = skipsBySequence(input.skips);
  for (let from = 0; from < input.messages.length; ) {
    let to = from;
    let events = 0;
    while (to < input.messages.length && events < PART_EVENTS) events += input.messages[to++].events ?? 1;
    const { events: counted, duplicates, deadLettered, unread } = recordedEvents(input.messages.slice(from, to), skipped, consumed);
    folding.add(counted, { duplicates, deadLettered, unread });
    from = to;
  }
  return folding.finish();
}
