import { createHash } from 'node:crypto';
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { DeadLetterHeaders, type DeadLetterStage, type PulseNames } from '../subjects.js';
import type { FieldError } from '../validation.js';

export interface DeadLetter {
  stage: DeadLetterStage;
  /** Machine-readable reason, also the last subject token: malformed_json, invalid_data, poison_event, ... */
  code: string;
  /** One sentence a person can act on. */
  reason: string;
  errors?: FieldError[];
  /** The original bytes as received. */
  body: Uint8Array | string;
  eventId?: string;
  eventSource?: string;
  eventType?: string;
  batchIndex?: number;
  originalSubject?: string;
  originalSequence?: number;
  producer?: string;
  /** RFC 3339; passed in, so the caller owns the clock. */
  receivedAt: string;
  resubmittedFrom?: number;
}

/** NATS headers are single-line text, and a header value cannot carry the whole of a long error list. */
function headerValue(value: string, max = 4000): string {
  const oneLine = value.replace(/[\r\n]+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

const encoder = new TextEncoder();

/**
 * Keeps rejected events in the dead-letter stream. Resolves only once JetStream has stored every
 * letter, so a caller that answers "rejected" after this has really kept the event.
 * A letter larger than the stream's message cap keeps its first bytes and says how big it was.
 */
export async function publishDeadLetters(js: JetStreamClient, names: PulseNames, letters: readonly DeadLetter[], maxBodyBytes = 900 * 1024): Promise<void> {
  await Promise.all(
    letters.map((letter) => {
      let body = typeof letter.body === 'string' ? encoder.encode(letter.body) : letter.body;
      const h = natsHeaders();
      h.set(DeadLetterHeaders.Stage, letter.stage);
      h.set(DeadLetterHeaders.Code, letter.code);
      h.set(DeadLetterHeaders.Reason, headerValue(letter.reason));
      h.set(DeadLetterHeaders.ReceivedAt, letter.receivedAt);
      if (letter.errors?.length) h.set(DeadLetterHeaders.Errors, headerValue(JSON.stringify(letter.errors.slice(0, 20))));
      if (letter.eventId) h.set(DeadLetterHeaders.EventId, headerValue(letter.eventId, 256));
      if (letter.eventSource) h.set(DeadLetterHeaders.EventSource, headerValue(letter.eventSource, 512));
      if (letter.eventType) h.set(DeadLetterHeaders.EventType, headerValue(letter.eventType, 256));
      if (letter.batchIndex !== undefined) h.set(DeadLetterHeaders.BatchIndex, String(letter.batchIndex));
      if (letter.originalSubject) h.set(DeadLetterHeaders.OriginalSubject, letter.originalSubject);
      if (letter.originalSequence !== undefined) h.set(DeadLetterHeaders.OriginalSequence, String(letter.originalSequence));
      if (letter.producer) h.set(DeadLetterHeaders.Producer, headerValue(letter.producer, 256));
      if (letter.resubmittedFrom !== undefined) h.set(DeadLetterHeaders.Resubmitted, String(letter.resubmittedFrom));
      if (body.byteLength > maxBodyBytes) {
        h.set(DeadLetterHeaders.Truncated, String(body.byteLength));
        body = body.subarray(0, maxBodyBytes);
      }
      // The same rejected bytes sent again (a producer retrying) are one dead letter, not two.
      const msgID = createHash('sha1').update(letter.stage).update(letter.code).update(String(letter.originalSequence ?? '')).update(String(letter.batchIndex ?? '')).update(body).digest('base64url');
      return js.publish(names.deadLetterSubject(letter.stage, letter.code), body, { headers: h, msgID });
    }),
  );
}
