import { decodeMessage, partitionOf, validateEvent, type PulseEvent } from '@pulse/contracts';
import type { JsMsg } from '@nats-io/jetstream';
import { EVENT_COUNT_HEADER, VALIDATED_HEADER, type DeadLetter, type ValidationMarks } from '@pulse/contracts/sdk';
import type { BatchEvent } from '@pulse/domain';

/** What the projector needs of a JetStream message: the stream keeps all of it, so a replay sees the same. */
export interface StoredMessage {
  seq: number;
  subject: string;
  /** When JetStream stored the message (ms): the reference for "too far in the future" and "too old". */
  storedMs: number;
  data: Uint8Array;
  /** Events the message carries, from the producer's Pulse-Event-Count header, when it has one. */
  events?: number;
  /** The ingestion API's mark of having validated the message's events (Pulse-Validated), when it has one. */
  mark?: string;
}

/** A delivered message as the projector keeps it, with its event count read once from the producer's header. */
export function storedMessage(m: JsMsg): StoredMessage {
  const count = Number(m.headers?.get(EVENT_COUNT_HEADER));
  const mark = m.headers?.get(VALIDATED_HEADER);
  return { seq: m.seq, subject: m.subject, storedMs: Number(m.timestampNanos / 1_000_000n), data: m.data, events: Number.isInteger(count) && count > 0 ? count : undefined, mark: mark || undefined };
}

/** Event type of a stored message, from its subject `<root>.events.<domain>.<type, two tokens>.<partition>`. */
export function eventTypeOfSubject(subject: string): string {
  const tokens = subject.split('.');
  return `${tokens[tokens.length - 3]}.${tokens[tokens.length - 2]}`;
}

/**
 * An event's time in ms. Times in the form producers' SDKs write (`toISOString()`: 24 characters, UTC,
 * milliseconds) are read digit by digit, three times faster than Date.parse, which every other form
 * still goes through: a rebuild reads a few hundred thousand of them a second.
 */
export function eventTimeMs(time: string): number {
  if (time.length !== 24 || time.charCodeAt(23) !== 90 /* Z */ || time.charCodeAt(10) !== 84 /* T */ || time.charCodeAt(19) !== 46 /* . */) return Date.parse(time);
  if (time.charCodeAt(4) !== 45 || time.charCodeAt(7) !== 45 || time.charCodeAt(13) !== 58 || time.charCodeAt(16) !== 58) return Date.parse(time);
  const year = digits(time, 0, 4), month = digits(time, 5, 7), day = digits(time, 8, 10);
  const hour = digits(time, 11, 13), minute = digits(time, 14, 16), second = digits(time, 17, 19), ms = digits(time, 20, 23);
  // Out-of-range fields would be carried over by Date.UTC where Date.parse refuses them.
  if (year < 0 || ms < 0 || month < 1 || month > 12 || day < 1 || day > 28 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return Date.parse(time);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** The decimal number in `s` from `from` to `to`, or -1 when a character there is not a digit. */
function digits(s: string, from: number, to: number): number {
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export interface DecodedEvent extends BatchEvent {
  seq: number;
  partition: number;
  /** Position in its message's batch. */
  index: number;
}

export interface DecodeLimits {
  maxFutureSkewMs: number;
  horizonMs: number;
}

/**
 * Turns stored messages into events to project, and everything that cannot be projected into dead
 * letters with their reason. Events reach the store through the validating SDK or API, but anyone with
 * publish rights could write to the subject, so each one is checked again, unless its message carries
 * a good mark of the API's validation (`marks`): a poison event is set aside, never allowed to stop the
 * partition. `validated` counts the events checked here.
 */
export function decodeMessages(messages: readonly StoredMessage[], limits: DecodeLimits, receivedAt: string, marks?: ValidationMarks): { events: DecodedEvent[]; deadLetters: DeadLetter[]; validated: number } {
  const events: DecodedEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  let validated = 0;
  for (const m of messages) {
    const partition = partitionOf(m.subject);
    const letter = (code: string, reason: string, body: Uint8Array | string, extra: Partial<DeadLetter> = {}): void => {
      deadLetters.push({ stage: 'projector', code, reason, body, originalSubject: m.subject, originalSequence: m.seq, receivedAt, ...extra });
    };
    const parsed = decodeMessage(m.data);
    if (parsed === undefined) {
      letter('malformed_json', 'the stored message is not JSON', m.data);
      continue;
    }
    const items = Array.isArray(parsed) ? parsed : [parsed];
    const vouched = marks !== undefined && marks.verifies(m.subject, m.data, m.mark);
    if (!vouched) validated += items.length;
    items.forEach((item, index) => {
      let event: PulseEvent;
      if (vouched) event = item as PulseEvent;
      else {
        const result = validateEvent(item);
        if (!result.ok) {
          const o = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
          letter(result.rejection.code, result.rejection.reason, JSON.stringify(item) ?? 'null', {
            batchIndex: index,
            errors: result.rejection.errors,
            eventId: typeof o.id === 'string' ? o.id : undefined,
            eventSource: typeof o.source === 'string' ? o.source : undefined,
            eventType: typeof o.type === 'string' ? o.type : undefined,
          });
          return;
        }
        event = result.event;
      }
      const timeMs = eventTimeMs(event.time);
      const ids = { batchIndex: index, eventId: event.id, eventSource: event.source, eventType: event.type };
      if (timeMs > m.storedMs + limits.maxFutureSkewMs) {
        letter('future_event_time', `event time ${event.time} is ${Math.round((timeMs - m.storedMs) / 1000)} s after it was stored; a producer clock is wrong`, JSON.stringify(event), ids);
      } else if (timeMs < m.storedMs - limits.horizonMs) {
        letter('beyond_dedup_horizon', `event time ${event.time} is older than the de-duplication horizon (${Math.round(limits.horizonMs / 86_400_000)} days) when it was stored, so it cannot be counted exactly once`, JSON.stringify(event), ids);
      } else {
        events.push({ event, timeMs, arrivedMs: m.storedMs, seq: m.seq, partition, index });
      }
    });
  }
  return { events, deadLetters, validated };
}

export interface Skip {
  stream_seq: string;
  batch_index: number;
  reason: string;
}

/** Events of a message no rebuilt projection consumes: counted from the header, never parsed. */
export interface UnreadTally {
  partition: number;
  events: number;
  duplicates: number;
  deadLetters: number;
}

/** Recorded skips by stream sequence, then position in the message (-1: the whole message). */
export type SkipsBySequence = ReadonlyMap<number, ReadonlyMap<number, string>>;

export function skipsBySequence(skips: readonly Skip[]): SkipsBySequence {
  const skipped = new Map<number, Map<number, string>>();
  for (const s of skips) {
    const seq = Number(s.stream_seq);
    let reasons = skipped.get(seq);
    if (!reasons) skipped.set(seq, (reasons = new Map()));
    reasons.set(s.batch_index, s.reason);
  }
  return skipped;
}

/**
 * Turns stored messages into events following decisions the live pipeline already recorded (which
 * positions were duplicates or dead letters): the events are parsed, not validated or de-duplicated
 * again. Only for messages the live pipeline has committed.
 */
export function recordedEvents(
  messages: readonly StoredMessage[],
  // Skips are a few in a hundred events: looked up per message, and per event only where a message has any.
  skipped: SkipsBySequence,
  /** Event types the rebuilt projections consume: other messages with a known event count are counted, not parsed. */
  consumed?: ReadonlySet<string>,
): { events: DecodedEvent[]; duplicates: DecodedEvent[]; deadLettered: Array<{ seq: number; partition: number }>; unread: UnreadTally[] } {
  const events: DecodedEvent[] = [];
  const duplicates: DecodedEvent[] = [];
  const deadLettered: Array<{ seq: number; partition: number }> = [];
  const unread: UnreadTally[] = [];
  for (const m of messages) {
    const partition = partitionOf(m.subject);
    const reasons = skipped.get(m.seq);
    if (reasons?.has(-1)) {
      deadLettered.push({ seq: m.seq, partition });
      continue;
    }
    if (consumed && m.events !== undefined && !consumed.has(eventTypeOfSubject(m.subject))) {
      let duplicateCount = 0;
      for (const reason of reasons?.values() ?? []) if (reason === 'duplicate') duplicateCount++;
      const skippedCount = reasons?.size ?? 0;
      unread.push({ partition, events: m.events - skippedCount, duplicates: duplicateCount, deadLetters: skippedCount - duplicateCount });
      continue;
    }
    const parsed = decodeMessage(m.data);
    const items = (Array.isArray(parsed) ? parsed : [parsed]) as BatchEvent['event'][];
    items.forEach((event, index) => {
      const reason = reasons?.get(index);
      const decoded = { event, timeMs: eventTimeMs(event.time), arrivedMs: m.storedMs, seq: m.seq, partition, index };
      if (reason === undefined) events.push(decoded);
      else if (reason === 'duplicate') duplicates.push(decoded);
      else deadLettered.push({ seq: m.seq, partition });
    });
  }
  return { events, duplicates, deadLettered, unread };
}
