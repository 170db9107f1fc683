import { DeliverPolicy } from '@nats-io/jetstream';
import { checkEvents, DeadLetterHeaders, type PulseNames } from '@pulse/contracts';
import type pg from 'pg';
import { Problem } from '../http/problem.js';
import type { Nats } from '../nats/nats.module.js';

/** How far back a listing scans the dead-letter stream (newest first); older letters need `before`. */
const SCAN_WINDOW = 50_000;

interface Letter {
  seq: number;
  subject: string;
  headers: Record<string, string>;
  data: Uint8Array;
}

function headersOf(h: Iterable<[string, string[]]> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of h ?? []) out[k] = v[0];
  return out;
}

function summary(l: Letter, resubmittedAt: Date | undefined) {
  const [, , stage, code] = l.subject.split('.');
  return {
    seq: l.seq,
    stage,
    code,
    reason: l.headers[DeadLetterHeaders.Reason] ?? '',
    receivedAt: l.headers[DeadLetterHeaders.ReceivedAt] ?? '',
    size: l.data.byteLength,
    eventId: l.headers[DeadLetterHeaders.EventId] ?? null,
    eventType: l.headers[DeadLetterHeaders.EventType] ?? null,
    eventSource: l.headers[DeadLetterHeaders.EventSource] ?? null,
    producer: l.headers[DeadLetterHeaders.Producer] ?? null,
    resubmittedAt: resubmittedAt?.toISOString() ?? null,
  };
}

function filterSubject(names: PulseNames, stage?: string, code?: string): string {
  return `${names.root}.dlq.${stage ?? '*'}.${code ?? '*'}`;
}

async function scan(nats: Nats, names: PulseNames, options: { stage?: string; code?: string; before?: number; limit: number }): Promise<Letter[]> {
  const info = await nats.jsm.streams.info(names.deadLetterStream);
  if (!info.state.messages) return [];
  const upper = Math.min(options.before ? options.before - 1 : info.state.last_seq, info.state.last_seq);
  const start = Math.max(info.state.first_seq, upper - SCAN_WINDOW);
  if (upper < start) return [];
  const consumer = await nats.js.consumers.get(names.deadLetterStream, { filter_subjects: filterSubject(names, options.stage, options.code), deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: start });
  const kept: Letter[] = [];
  try {
    for (;;) {
      const batch = await consumer.fetch({ max_messages: 500, expires: 1000 });
      let got = 0;
      let done = false;
      for await (const m of batch) {
        got++;
        if (m.seq > upper) {
          done = true;
          continue;
        }
        kept.push({ seq: m.seq, subject: m.subject, headers: headersOf(m.headers), data: m.data });
        if (kept.length > options.limit) kept.shift();
        if (m.info.pending === 0) done = true;
      }
      if (done || !got) break;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return kept.reverse();
}

async function resubmissions(pool: pg.Pool, seqs: number[]): Promise<Map<number, Date>> {
  if (!seqs.length) return new Map();
  const { rows } = await pool.query<{ dead_letter_seq: string; at: Date }>(
    `SELECT dead_letter_seq, max(resubmitted_at) AS at FROM pulse.dead_letter_resubmissions WHERE dead_letter_seq = ANY($1::bigint[]) AND accepted > 0 GROUP BY 1`,
    [seqs],
  );
  return new Map(rows.map((r) => [Number(r.dead_letter_seq), r.at]));
}

export async function listDeadLetters(nats: Nats, pool: pg.Pool, names: PulseNames, q: { stage?: string; code?: string; before?: number; limit: number }) {
  const letters = await scan(nats, names, q);
  const done = await resubmissions(pool, letters.map((l) => l.seq));
  const info = await nats.jsm.streams.info(names.deadLetterStream, { subjects_filter: names.deadLetters() });
  const counts: Record<string, number> = {};
  for (const [subject, n] of Object.entries(info.state.subjects ?? {})) counts[subject.split('.').slice(2).join('.')] = n;
  return { total: info.state.messages, counts, rows: letters.map((l) => summary(l, done.get(l.seq))) };
}

async function getLetter(nats: Nats, names: PulseNames, seq: number): Promise<Letter> {
  const m = await nats.jsm.streams.getMessage(names.deadLetterStream, { seq }).catch(() => null);
  if (!m) throw new Problem(404, 'not_found', `there is no dead letter ${seq}`);
  return { seq: m.seq, subject: m.subject, headers: headersOf(m.header), data: m.data };
}

export async function inspectDeadLetter(nats: Nats, pool: pg.Pool, names: PulseNames, seq: number) {
  const letter = await getLetter(nats, names, seq);
  const { rows } = await pool.query<{ resubmitted_at: Date; resubmitted_by: string; accepted: number; rejected: number }>(
    `SELECT resubmitted_at, resubmitted_by, accepted, rejected FROM pulse.dead_letter_resubmissions WHERE dead_letter_seq = $1 ORDER BY resubmitted_at`,
    [seq],
  );
  const errors = letter.headers[DeadLetterHeaders.Errors];
  return {
    ...summary(letter, undefined),
    errors: errors ? (JSON.parse(errors) as unknown[]) : null,
    headers: letter.headers,
    body: new TextDecoder().decode(letter.data),
    resubmissions: rows.map((r) => ({ at: r.resubmitted_at.toISOString(), by: r.resubmitted_by, accepted: r.accepted, rejected: r.rejected })),
  };
}

/**
 * Sends dead-lettered events through ingestion again, after a contract or producer fix: each one is
 * validated anew; the valid ones are stored (and, being identified by source + id, counted once however
 * often they are re-submitted); the still invalid ones stay where they are and are reported.
 */
export async function resubmitDeadLetters(nats: Nats, pool: pg.Pool, names: PulseNames, by: string, q: { seqs?: number[]; all?: boolean; stage?: string; code?: string }) {
  let seqs = q.seqs ?? [];
  if (q.all) {
    const letters = await scan(nats, names, { stage: q.stage, code: q.code, limit: 10_000 });
    const done = await resubmissions(pool, letters.map((l) => l.seq));
    seqs = letters.filter((l) => !done.has(l.seq)).map((l) => l.seq);
  }
  if (!seqs.length) throw new Problem(400, 'nothing_to_resubmit', 'give `seqs`, or `all: true` (optionally with stage/code)');
  const results: Array<{ seq: number; accepted: number; rejected: number; reasons: string[] }> = [];
  for (const seq of seqs) {
    const letter = await getLetter(nats, names, seq);
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(letter.data));
    } catch {
      results.push({ seq, accepted: 0, rejected: 1, reasons: ['the original bytes are still not JSON'] });
      continue;
    }
    const { accepted, rejected } = checkEvents(parsed);
    if (accepted.length) await nats.producer.publishValidated(accepted, { [DeadLetterHeaders.Resubmitted]: String(seq) });
    await pool.query(`INSERT INTO pulse.dead_letter_resubmissions (dead_letter_seq, resubmitted_by, accepted, rejected) VALUES ($1, $2, $3, $4)`, [seq, by, accepted.length, rejected.length]);
    results.push({ seq, accepted: accepted.length, rejected: rejected.length, reasons: rejected.map((r) => r.rejection.reason) });
  }
  return { resubmitted: results.length, accepted: results.reduce((s, r) => s + r.accepted, 0), rejected: results.reduce((s, r) => s + r.rejected, 0), results };
}
