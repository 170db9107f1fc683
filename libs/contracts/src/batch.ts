import type { EventType } from './catalog.js';
import type { PulseEvent } from './types.js';
import { validateEvent, type Rejection } from './validation.js';

export interface RejectedEvent {
  /** Position in the submitted batch (0 for a single event). */
  index: number;
  id?: string;
  source?: string;
  type?: string;
  rejection: Rejection;
  /** The event as submitted, re-serialised from the parsed body, kept for the dead-letter stream. */
  original: string;
}

export interface CheckedBatch {
  accepted: PulseEvent[];
  rejected: RejectedEvent[];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Validates every element of a parsed single event or batch, keeping rejected ones with their reason. */
export function checkEvents(parsed: unknown): CheckedBatch {
  const items = Array.isArray(parsed) ? parsed : [parsed];
  const accepted: PulseEvent[] = [];
  const rejected: RejectedEvent[] = [];
  items.forEach((item, index) => {
    const result = validateEvent(item);
    if (result.ok) {
      accepted.push(result.event);
      return;
    }
    const o = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    rejected.push({ index, id: str(o.id), source: str(o.source), type: str(o.type), rejection: result.rejection, original: JSON.stringify(item) ?? 'null' });
  });
  return { accepted, rejected };
}

/** Groups events by type, keeping their order, because one stream message carries events of one type. */
export function groupByType(events: readonly PulseEvent[]): Map<EventType, PulseEvent[]> {
  const groups = new Map<EventType, PulseEvent[]>();
  for (const event of events) {
    const group = groups.get(event.type);
    if (group) group.push(event);
    else groups.set(event.type, [event]);
  }
  return groups;
}

/** Event identity used for de-duplication everywhere: `source` + `id`. */
export function identityOf(event: { source: string; id: string }): string {
  return `${event.source}\u0000${event.id}`;
}

const utf8 = new TextDecoder();

/**
 * Decodes a stream message body: a CloudEvent object or a batch array. Returns undefined when the bytes are not JSON.
 */
export function decodeMessage(body: Uint8Array | string): unknown {
  try {
    return JSON.parse(typeof body === 'string' ? body : utf8.decode(body));
  } catch {
    return undefined;
  }
}
