import { hash, randomInt } from 'node:crypto';
import { IDENTITY_BUCKETS, identityBucketOf } from '@pulse/contracts';
import type pg from 'pg';
import type { DecodedEvent } from './decode.js';
import { firstOccurrencesByRow } from './dedup.js';
import { KeySet } from './identity-keys.js';
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

/** What a pipeline knows of one second of event time. */
interface SecondMemory {
  /** The identities known in this second, of every bucket. */
  keys: KeySet;
  /** Per bucket, 1 when `keys` holds every identity the store has in that bucket and second (read under the bucket's lock, added to since). */
  complete: Uint8Array;
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
 * of event time; a bucket's part of it is complete while the bucket's count of writes moves only by
 * this pipeline's own commits. Identities are never taken out of the store within the window, so what
 * is remembered stays true when another pipeline writes the bucket; only what it wrote must be read.
 * A failed commit forgets everything: the batch's identities may not be in the store.
 */
export class Identities {
  private readonly seconds = new Map<number, SecondMemory>();
  /** Per bucket, its count of writes at this pipeline's last commit; NaN when not known. */
  private readonly writes = new Float64Array(IDENTITY_BUCKETS).fill(NaN);
  private remembered = 0;
  private newestSecond = -Infinity;
  /** Counts of writes this batch took, applied when it commits. */
  private pending: Map<number, number> | null = null;
  private readonly seed = randomInt(2 ** 31);

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
    for (const [bucket, writes] of this.pending) this.writes[bucket] = writes;
    this.pending = null;
    this.sweep();
  }

  /** The batch failed, and may or may not have committed (commits are asynchronous): nothing is known any more. */
  forget(): void {
    this.seconds.clear();
    this.writes.fill(NaN);
    this.remembered = 0;
    this.newestSecond = -Infinity;
    this.pending = null;
  }

  private async byBlock(client: pg.ClientBase, events: readonly DecodedEvent[]): Promise<{ fresh: DecodedEvent[]; duplicates: DecodedEvent[] }> {
    if (!events.length) return { fresh: [], duplicates: [] };
    // What is remembered is only true between one batch's commit and the next batch: never two at once.
    if (this.pending) throw new Error('Identities is deciding two batches at once: give each concurrent committer its own');
    const { blocks, buckets } = this.store;
    const n = events.length;
    const keys = new Int32Array(n * 3);
    const bucketOf = new Uint16Array(n);
    const secondOf = new Float64Array(n);
    const touched = new Uint8Array(IDENTITY_BUCKETS);
    for (let i = 0; i < n; i++) {
      const { source, id } = events[i].event;
      // One-shot hashing, as a byte string: no Buffer to allocate per event.
      const k = hash('md5', `${source}\u0000${id}`, 'binary');
      keys[i * 3] = word(k, 0);
      keys[i * 3 + 1] = word(k, 4);
      keys[i * 3 + 2] = word(k, 8);
      bucketOf[i] = identityBucketOf(source, id);
      secondOf[i] = Math.floor(events[i].timeMs / 1000);
      touched[bucketOf[i]] = 1;
    }

    // Lock the batch's buckets in order and count this write; a count that moved by more than one
    // since this pipeline's last commit means another pipeline wrote the bucket, so what it wrote is read again.
    const locked: number[] = [];
    for (let b = 0; b < IDENTITY_BUCKETS; b++) if (touched[b]) locked.push(b);
    const { rows: counts } = await prepared<{ bucket: number; writes: string }>(
      client,
      `WITH locked AS (SELECT bucket FROM ${buckets} WHERE bucket = ANY($1::int[]) ORDER BY bucket FOR UPDATE)
       UPDATE ${buckets} b SET writes = b.writes + 1 FROM locked WHERE b.bucket = locked.bucket RETURNING b.bucket, b.writes`,
      [pgArray(locked)],
    );
    if (counts.length !== locked.length) throw new Error(`${buckets} lacks some of buckets ${locked.join(',')}: run the migrations (0-${IDENTITY_BUCKETS - 1})`);
    this.pending = new Map();
    for (const { bucket, writes } of counts) {
      const count = Number(writes);
      if (this.writes[bucket] !== count - 1) for (const memory of this.seconds.values()) memory.complete[bucket] = 0;
      this.pending.set(bucket, count);
    }

    // Buckets and seconds not known completely are read, complete since the bucket is locked.
    const unread = new Map<number, { bucket: number; second: number; memory: SecondMemory }>();
    for (let i = 0; i < n; i++) {
      const second = secondOf[i];
      let memory = this.seconds.get(second);
      if (!memory) {
        // Sized like the newest second, so a busy second's set does not grow step by step.
        const keys = new KeySet(this.seed, this.seconds.get(this.newestSecond)?.keys.size ?? 1024);
        this.seconds.set(second, (memory = { keys, complete: new Uint8Array(IDENTITY_BUCKETS) }));
      }
      if (!memory.complete[bucketOf[i]]) unread.set(place(bucketOf[i], second), { bucket: bucketOf[i], second, memory });
    }
    if (unread.size) {
      const places = [...unread.values()];
      const { rows } = await prepared<{ second: string; hashes: Buffer }>(
        client,
        `SELECT second, hashes FROM ${blocks} WHERE (bucket, second) IN (SELECT * FROM unnest($1::int[], $2::bigint[]))`,
        [pgArray(places.map((u) => u.bucket)), pgArray(places.map((u) => u.second))],
      );
      for (const { second, hashes } of rows) {
        const memory = this.seconds.get(Number(second))!;
        for (let i = 0; i + KEY_BYTES <= hashes.length; i += KEY_BYTES) {
          if (memory.keys.add(hashes.readInt32LE(i), hashes.readInt32LE(i + 4), hashes.readInt32LE(i + 8))) this.remembered++;
        }
      }
      for (const u of places) u.memory.complete[u.bucket] = 1;
    }

    // Decide in stream order (copies within the batch meet here too), and gather the new identities per bucket and second: one row each.
    const fresh: DecodedEvent[] = [];
    const duplicates: DecodedEvent[] = [];
    const written = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const second = secondOf[i];
      if (!this.seconds.get(second)!.keys.add(keys[i * 3], keys[i * 3 + 1], keys[i * 3 + 2])) {
        duplicates.push(events[i]);
        continue;
      }
      this.remembered++;
      if (second > this.newestSecond) this.newestSecond = second;
      fresh.push(events[i]);
      const at = place(bucketOf[i], second);
      const members = written.get(at);
      if (members) members.push(i);
      else written.set(at, [i]);
    }
    if (written.size) {
      const packed = Buffer.allocUnsafe(fresh.length * KEY_BYTES);
      const bucketsOut: number[] = [];
      const secondsOut: number[] = [];
      const offsets: number[] = [];
      const lengths: number[] = [];
      let at = 0;
      for (const members of written.values()) {
        bucketsOut.push(bucketOf[members[0]]);
        secondsOut.push(secondOf[members[0]]);
        offsets.push(at + 1);
        lengths.push(members.length * KEY_BYTES);
        for (const i of members) {
          packed.writeInt32LE(keys[i * 3], at);
          packed.writeInt32LE(keys[i * 3 + 1], at + 4);
          packed.writeInt32LE(keys[i * 3 + 2], at + 8);
          at += KEY_BYTES;
        }
      }
      await prepared(
        client,
        `INSERT INTO ${blocks} (bucket, second, hashes) SELECT b, s, substring($3::bytea FROM o FOR l) FROM unnest($1::int[], $2::bigint[], $4::int[], $5::int[]) AS u(b, s, o, l)`,
        [pgArray(bucketsOut), pgArray(secondsOut), packed, pgArray(offsets), pgArray(lengths)],
      );
    }
    return { fresh, duplicates };
  }

  /** Forgets seconds behind the window, then the oldest ones while over the cap. */
  private sweep(): void {
    const horizon = this.newestSecond - WINDOW_SECONDS;
    const drop = (second: number) => {
      this.remembered -= this.seconds.get(second)!.keys.size;
      this.seconds.delete(second);
    };
    for (const second of this.seconds.keys()) if (second < horizon) drop(second);
    if (this.remembered <= MAX_REMEMBERED) return;
    for (const second of [...this.seconds.keys()].sort((a, b) => a - b)) {
      drop(second);
      if (this.remembered <= MAX_REMEMBERED / 2) return;
    }
  }
}

/** Bytes `at`..`at + 3` of a byte string, little-endian, as the block's bytes are read back. */
function word(s: string, at: number): number {
  return s.charCodeAt(at) | (s.charCodeAt(at + 1) << 8) | (s.charCodeAt(at + 2) << 16) | (s.charCodeAt(at + 3) << 24);
}

/** A bucket and second as one number (seconds stay far below 2^44). */
function place(bucket: number, second: number): number {
  return second * IDENTITY_BUCKETS + bucket;
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
