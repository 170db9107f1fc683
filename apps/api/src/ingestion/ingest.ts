import type { Request } from 'express';
import { CLOUDEVENTS_BATCH_JSON, CLOUDEVENTS_JSON, checkEvents, eventTexts, type RejectedEvent } from '@pulse/contracts';
import { publishDeadLetters, type DeadLetter } from '@pulse/contracts/sdk';
import type { Nats } from '../nats/nats.module.js';
import type { ApiConfig } from '../config.js';
import { Problem } from '../http/problem.js';

export interface RawBody {
  bytes: Buffer;
  /** Size the client sent, which is more than `bytes` holds when the body was over the limit. */
  size: number;
  tooLarge: boolean;
}

/** Reads the request body as bytes, keeping at most `limit` of them: the original bytes are what a dead letter keeps. */
export async function readBody(req: Request, limit: number): Promise<RawBody> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (kept < limit) {
      const part = kept + chunk.length > limit ? chunk.subarray(0, limit - kept) : chunk;
      chunks.push(part);
      kept += part.length;
    }
    // A client streaming far past the limit is cut off rather than read to the end.
    if (size > limit * 4) {
      req.destroy();
      break;
    }
  }
  return { bytes: Buffer.concat(chunks), size, tooLarge: size > limit };
}

export type BodyShape = 'single' | 'batch' | 'either';

export function bodyShape(contentType: string | undefined): BodyShape | undefined {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (media === CLOUDEVENTS_JSON) return 'single';
  if (media === CLOUDEVENTS_BATCH_JSON) return 'batch';
  if (media === 'application/json') return 'either';
  return undefined;
}

export interface RejectionView {
  index: number;
  id?: string;
  type?: string;
  code: string;
  reason: string;
  errors: Array<{ field: string; message: string }>;
}

function view(r: RejectedEvent): RejectionView {
  return { index: r.index, id: r.id, type: r.type, code: r.rejection.code, reason: r.rejection.reason, errors: r.rejection.errors.map(({ field, message }) => ({ field, message })) };
}

export interface IngestResult {
  accepted: number;
  /** Accepted events JetStream already held (a retried request): stored once. */
  duplicateMessages: number;
  rejected: RejectionView[];
}

/**
 * The ingestion path: parse once, validate each event against its contract, store the valid ones in
 * the event store and every rejected one in the dead-letter stream, and only then answer. Whatever the
 * answer, nothing the producer sent is dropped without a trace.
 */
export async function ingest(nats: Nats, config: ApiConfig, body: RawBody, contentType: string | undefined, producer: string, now: Date, admit: (events: number) => void = () => undefined): Promise<IngestResult> {
  const receivedAt = now.toISOString();
  const keepWhole = async (code: string, reason: string) => {
    await publishDeadLetters(nats.js, config.names, [{ stage: 'ingest', code, reason, body: body.bytes, producer, receivedAt }]).catch(unavailable);
  };

  if (body.tooLarge) {
    const reason = `the body is ${body.size} bytes; the limit is ${config.maxBodyBytes}: split it into smaller batches`;
    await keepWhole('body_too_large', reason);
    throw new Problem(413, 'body_too_large', reason, { limitBytes: config.maxBodyBytes }, { Connection: 'close' });
  }
  const shape = bodyShape(contentType);
  if (!shape) {
    const reason = `content type "${contentType ?? '(none)'}" is not accepted; send ${CLOUDEVENTS_JSON}, ${CLOUDEVENTS_BATCH_JSON} or application/json (CloudEvents binary mode is not supported)`;
    await keepWhole('unsupported_media_type', reason);
    throw new Problem(415, 'unsupported_media_type', reason);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.bytes.toString('utf8'));
  } catch (e) {
    const reason = `the body is not valid JSON: ${(e as Error).message}`;
    await keepWhole('malformed_json', reason);
    throw new Problem(400, 'malformed_json', reason);
  }
  if (shape === 'batch' && !Array.isArray(parsed)) {
    const reason = `${CLOUDEVENTS_BATCH_JSON} must be a JSON array of events`;
    await keepWhole('not_a_batch', reason);
    throw new Problem(400, 'not_a_batch', reason);
  }
  if (shape === 'single' && Array.isArray(parsed)) {
    const reason = `${CLOUDEVENTS_JSON} carries one event; send a batch as ${CLOUDEVENTS_BATCH_JSON}`;
    await keepWhole('not_a_single_event', reason);
    throw new Problem(400, 'not_a_single_event', reason);
  }
  if (Array.isArray(parsed) && parsed.length === 0) throw new Problem(400, 'empty_batch', 'the batch holds no events');
  if (Array.isArray(parsed) && parsed.length > config.maxBatchEvents) {
    const reason = `the batch holds ${parsed.length} events; the limit is ${config.maxBatchEvents}: split it`;
    await keepWhole('batch_too_large', reason);
    throw new Problem(413, 'batch_too_large', reason, { limitEvents: config.maxBatchEvents });
  }

  // Over its rate the producer gets a 429 and keeps its events: nothing was rejected, so nothing is dead-lettered.
  admit(Array.isArray(parsed) ? parsed.length : 1);
  const { accepted, positions, rejected } = checkEvents(parsed);
  // The accepted events are stored as the bytes that carried them, not serialised again (should the
  // scan ever count differently from JSON.parse, they are serialised: slower, never wrong).
  const texts = eventTexts(body.bytes);
  const acceptedTexts = texts.length === (Array.isArray(parsed) ? parsed.length : 1) ? positions.map((i) => texts[i]) : undefined;
  const letters: DeadLetter[] = rejected.map((r) => ({
    stage: 'ingest',
    code: r.rejection.code,
    reason: r.rejection.reason,
    errors: r.rejection.errors,
    body: r.original,
    eventId: r.id,
    eventSource: r.source,
    eventType: r.type,
    batchIndex: r.index,
    producer,
    receivedAt,
  }));
  const [report] = await Promise.all([
    accepted.length ? nats.producer.publishValidated(accepted, {}, acceptedTexts) : Promise.resolve({ duplicateMessages: 0 }),
    letters.length ? publishDeadLetters(nats.js, config.names, letters) : Promise.resolve(),
  ]).catch(unavailable);

  const result: IngestResult = { accepted: accepted.length, duplicateMessages: report.duplicateMessages, rejected: rejected.map(view) };
  if (!accepted.length) {
    const first = rejected[0].rejection;
    const detail = rejected.length === 1 ? first.reason : `none of the ${rejected.length} events was accepted; first: ${first.reason}`;
    throw new Problem(422, rejected.length === 1 ? first.code : 'all_events_rejected', detail, { accepted: 0, rejected: result.rejected, deadLettered: true });
  }
  return result;
}

function unavailable(error: unknown): never {
  throw new Problem(503, 'event_store_unavailable', `the event store did not confirm the write (${(error as Error).message}); nothing was acknowledged: retry the same request, retries are de-duplicated`, {}, { 'Retry-After': '1' });
}
