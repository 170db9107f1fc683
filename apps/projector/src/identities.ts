import { hash } from 'node:crypto';
import { IDENTITY_BUCKETS, identityBucketOf } from '@pulse/contracts';
import type pg from 'pg';
import type { DecodedEvent } from './decode.js';
import { firstOccurrencesByRow } from './dedup.js';
import { pgArray } from './pg-array.js';
import { prepared } from './prepared.js';

/** Bytes of an identity: the first 96 bits of MD5 of source + id; with the second and bucket beside them, collisions stay out of reach. */
const KEY_BYTES = 12;
/** Seconds of event time remembered behind the newest (late events further back read their blocks again). */
const WINDOW_SECONDS = 30;
/** Identities remembered at most; past it the oldest seconds are forgotten, which is always safe. */
const MAX_REMEMBERED = 1_000_000;

/** Where a pipeline keeps the identities it has counted. */
export interface IdentityStore {
  /** Rows of (bucket, second of event time, the identities a batch counted there, packed). */
  blocks: string;
  /** One row per bucket, its count of writes: a batch locks its buckets here, and the count says whether anyone else wrote. */
  buckets: string;
  /** Events dated before `blocksFromMs` are de-duplicated in `table`, one row per identity, as before migration 0007. */
  legacy: { table: string; blocksFromMs: number; secondsFromMs: number } | null;
}

/** What a pipeline knows of one bucket and second. */
interface SecondMemory {
  bucket: number;
  second: number;
  /** Every identity the store holds here: complete, as read under the bucket's lock and added to since. */
  known: Set<string>;
  /** Identities the current batch adds here, to write as one block. */
  added: string[] | null;
}

interface BucketMemory {
  /** The bucket's count of writes at this pipeline's last commit; NaN when not known. */
  writes: number;
  seconds: Map<number, SecondMemory>;
}

interface Candidate {
  e: DecodedEvent;
  key: string;
  second: number;
}

/**
 * De-duplication by identity for one committer (a live partition worker, a rebuild lane): which events of
 * a batch were counted before, by this batch or any earlier one, and recording the new ones.
 *
 * Identities are kept per bucket and second of event time as packed blocks, one row per bucket and
 * second a batch touches rather than one row and index entry per event (ADR 0004: 1.4 against 9.2 µs
 * of PostgreSQL CPU per identity). A batch locks its buckets' rows in order, so two pipelines writing
 * one bucket (which happens only when events were routed with another partition count) take turns and
 * each sees the other's blocks. What this pipeline read and wrote is remembered for the last seconds
 * of event time, and stays true while the bucket's count of writes moves only by this pipeline's own
 * commits; any other write, and any failed commit, forgets it.
 */
export class Identities {
  private readonly memory = new Map<number, BucketMemory>();
  private remembered = 0;
  private newestSecond = -Infinity;
  /** Counts of writes this batch took, applied when it commits. */
  private pending: Map<number, number> | null = null;

  constructor(private readonly store: IdentityStore) {}

  /**
   * Keeps the first occurrence of each identity, in stream order, inside the caller's transaction (a
   * rolled-back batch forgets its identities too). Returns the new events and the duplicates.
   */
  async firstOccurrences(client: pg.ClientBase, events: readonly DecodedEvent[]): Promise<{ fresh: DecodedEvent[]; duplicates: DecodedEvent[] }> {
    const { legacy } = this.store;
    const byRow = legacy ? events.filter((e) => e.timeMs < legacy.blocksFromMs) : [];
    if (!byRow.length) return this.byBlock(client, events);
    const old = await firstOccurrencesByRow(client, legacy!.table, byRow, legacy!.secondsFromMs);
    const recent = await this.byBlock(client, events.filter((e) => e.timeMs >= legacy!.blocksFromMs));
    // Both in stream order again.
    const fresh = new Set([...old.fresh, ...recent.fresh]);
    return { fresh: events.filter((e) => fresh.has(e)), duplicates: events.filter((e) => !fresh.has(e)) };
  }

  /** The batch committed: what it read and wrote is now known to be in the store. */
  committed(): void {
    if (!this.pending) return;
    for (const [bucket, writes] of this.pending) this.memory.get(bucket)!.writes = writes;
    this.pending = null;
    this.sweep();
  }

  /** The batch failed, and may or may not have committed (commits are asynchronous): nothing is known any more. */
  forget(): void {
    this.memory.clear();
    this.remembered = 0;
    this.newestSecond = -Infinity;
    this.pending = null;
  }

  private async byBlock(client: pg.ClientBase, events: readonly DecodedEvent[]): Promise<{ fresh: DecodedEvent[]; duplicates: DecodedEvent[] }> {
    if (!events.length) return { fresh: [], duplicates: [] };
    // What is remembered is only true between one batch's commit and the next batch: never two at once.
    if (this.pending) throw new Error('Identities is deciding two batches at once: give each concurrent committer its own');
    const { blocks, buckets } = this.store;
    // In-batch copies first: the first one in stream order counts. Keyed by identity alone, which is
    // cheaper to hash than identity and second together; the same source and id dated another second
    // (another event, ADR 0004) is rare and kept under both.
    const first = new Map<string, Candidate>();
    const candidates: Candidate[] = [];
    const duplicates: DecodedEvent[] = [];
    for (const e of events) {
      const second = Math.floor(e.timeMs / 1000);
      // One-shot hashing, as a byte string: no hex to build or parse.
      const key = hash('md5', `${e.event.source}\u0000${e.event.id}`, 'binary').slice(0, KEY_BYTES);
      const seen = first.get(key);
      if (seen?.second === second) {
        duplicates.push(e);
        continue;
      }
      const candidate = { e, key, second };
      if (seen) {
        const slot = `${key}${second}`;
        if (first.has(slot)) {
          duplicates.push(e);
          continue;
        }
        first.set(slot, candidate);
      } else first.set(key, candidate);
      candidates.push(candidate);
    }
    const bucketOf = candidates.map((c) => identityBucketOf(c.e.event.source, c.e.event.id));

    // Lock the batch's buckets in order and count this write; a count that moved by more than one
    // since this pipeline's last commit means another pipeline wrote the bucket, so its memory goes.
    const touched = [...new Set(bucketOf)].sort((a, b) => a - b);
    const { rows: counts } = await prepared<{ bucket: number; writes: string }>(
      client,
      `WITH locked AS (SELECT bucket FROM ${buckets} WHERE bucket = ANY($1::int[]) ORDER BY bucket FOR UPDATE)
       UPDATE ${buckets} b SET writes = b.writes + 1 FROM locked WHERE b.bucket = locked.bucket RETURNING b.bucket, b.writes`,
      [pgArray(touched)],
    );
    if (counts.length !== touched.length) throw new Error(`${buckets} lacks some of buckets ${touched.join(',')}: run the migrations (0-${IDENTITY_BUCKETS - 1})`);
    this.pending = new Map();
    for (const { bucket, writes } of counts) {
      const n = Number(writes);
      const memory = this.memory.get(bucket);
      if (!memory || memory.writes !== n - 1) {
        if (memory) for (const s of memory.seconds.values()) this.remembered -= s.known.size;
        this.memory.set(bucket, { writes: NaN, seconds: new Map() });
      }
      this.pending.set(bucket, n);
    }

    // Each candidate's bucket and second; those not remembered are read below, complete since the bucket is locked.
    const places: SecondMemory[] = new Array(candidates.length);
    const unread: SecondMemory[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const { seconds } = this.memory.get(bucketOf[i])!;
      const second = candidates[i].second;
      let place = seconds.get(second);
      if (!place) {
        seconds.set(second, (place = { bucket: bucketOf[i], second, known: new Set(), added: null }));
        unread.push(place);
      }
      places[i] = place;
    }
    if (unread.length) {
      const { rows } = await prepared<{ bucket: number; second: string; hashes: Buffer }>(
        client,
        `SELECT bucket, second, hashes FROM ${blocks} WHERE (bucket, second) IN (SELECT * FROM unnest($1::int[], $2::bigint[]))`,
        [pgArray(unread.map((u) => u.bucket)), pgArray(unread.map((u) => u.second))],
      );
      for (const { bucket, second, hashes } of rows) {
        const { known } = this.memory.get(bucket)!.seconds.get(Number(second))!;
        for (let i = 0; i < hashes.length; i += KEY_BYTES) known.add(hashes.toString('latin1', i, i + KEY_BYTES));
        this.remembered += hashes.length / KEY_BYTES;
      }
    }

    // Decide, and pack the new identities per bucket and second: one row each.
    const fresh: DecodedEvent[] = [];
    const written: SecondMemory[] = [];
    for (let i = 0; i < candidates.length; i++) {
      const { e, key, second } = candidates[i];
      const place = places[i];
      if (place.known.has(key)) {
        duplicates.push(e);
        continue;
      }
      place.known.add(key);
      this.remembered++;
      if (second > this.newestSecond) this.newestSecond = second;
      fresh.push(e);
      if (place.added) place.added.push(key);
      else {
        place.added = [key];
        written.push(place);
      }
    }
    if (written.length) {
      const offsets: number[] = [];
      const lengths: number[] = [];
      let packed = '';
      for (const w of written) {
        offsets.push(packed.length + 1);
        lengths.push(w.added!.length * KEY_BYTES);
        packed += w.added!.join('');
        w.added = null;
      }
      await prepared(
        client,
        `INSERT INTO ${blocks} (bucket, second, hashes) SELECT b, s, substring($3::bytea FROM o FOR l) FROM unnest($1::int[], $2::bigint[], $4::int[], $5::int[]) AS u(b, s, o, l)`,
        [pgArray(written.map((w) => w.bucket)), pgArray(written.map((w) => w.second)), Buffer.from(packed, 'latin1'), pgArray(offsets), pgArray(lengths)],
      );
    }
    return { fresh, duplicates };
  }

  /** Forgets seconds behind the window, then the oldest ones while over the cap. */
  private sweep(): void {
    const horizon = this.newestSecond - WINDOW_SECONDS;
    const drop = (bucket: BucketMemory, second: number) => {
      this.remembered -= bucket.seconds.get(second)!.known.size;
      bucket.seconds.delete(second);
    };
    for (const bucket of this.memory.values()) for (const second of bucket.seconds.keys()) if (second < horizon) drop(bucket, second);
    if (this.remembered <= MAX_REMEMBERED) return;
    const seconds = [...new Set([...this.memory.values()].flatMap((b) => [...b.seconds.keys()]))].sort((a, b) => a - b);
    for (const second of seconds) {
      for (const bucket of this.memory.values()) if (bucket.seconds.has(second)) drop(bucket, second);
      if (this.remembered <= MAX_REMEMBERED / 2) return;
    }
  }
}

/** From pulse.settings (migrations 0006 and 0007): event times from which identities are keyed by second, and kept in blocks. */
export interface IdentitySwitches {
  secondsFromMs: number;
  blocksFromMs: number;
}

export function readIdentitySwitches(settings: ReadonlyMap<string, unknown>): IdentitySwitches {
  const secondsFromMs = Number(settings.get('identity_seconds_from_ms'));
  const blocksFromMs = Number(settings.get('identity_blocks_from_ms'));
  if (!Number.isFinite(secondsFromMs) || !Number.isFinite(blocksFromMs)) throw new Error('pulse.settings lacks identity_seconds_from_ms or identity_blocks_from_ms: run the migrations first (npm run migrate)');
  return { secondsFromMs, blocksFromMs };
}

/** The live pipeline's store (migration 0007); a store that held identities before it still answers for events dated before the switch. */
export function liveIdentityStore(switches: IdentitySwitches): IdentityStore {
  return {
    blocks: 'pulse.identity_blocks',
    buckets: 'pulse.identity_buckets',
    legacy: switches.blocksFromMs > 0 ? { table: 'pulse.seen_events', ...switches } : null,
  };
}

/** A store of its own (a rebuild that decides again), laid out like the live one; `name` is a bare table-name prefix. */
export function ownIdentityStore(name: string): IdentityStore {
  return { blocks: `pulse.${name}_blocks`, buckets: `pulse.${name}_buckets`, legacy: null };
}

export async function createIdentityStore(client: pg.ClientBase, store: IdentityStore): Promise<void> {
  await client.query(`CREATE TABLE ${store.blocks} (LIKE pulse.identity_blocks INCLUDING ALL)`);
  await client.query(`CREATE TABLE ${store.buckets} (LIKE pulse.identity_buckets INCLUDING ALL)`);
  await client.query(`INSERT INTO ${store.buckets} (bucket) SELECT generate_series(0, ${IDENTITY_BUCKETS - 1})`);
}

export async function dropIdentityStore(client: pg.ClientBase, store: IdentityStore): Promise<void> {
  await client.query(`DROP TABLE IF EXISTS ${store.blocks}, ${store.buckets}`);
}
