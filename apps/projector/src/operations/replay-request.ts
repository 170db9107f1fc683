import { eventTypes, type PulseNames } from '@pulse/contracts';

export interface ReplayRequest {
  /** Where the events go: a subject the downstream service names (never inside Pulse's own subjects). */
  subject: string;
  /** Event-time range [from, to), ISO. */
  from?: string;
  to?: string;
  /** Stream sequence range [fromSeq, toSeq]. */
  fromSeq?: number;
  toSeq?: number;
  types?: string[];
  ratePerSecond: number;
  reason: string;
}

const SUBJECT = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

export function checkReplayRequest(input: Record<string, unknown>, names: PulseNames): { ok: true; request: ReplayRequest } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const subject = typeof input.subject === 'string' ? input.subject : '';
  if (!SUBJECT.test(subject)) problems.push('subject must be a plain NATS subject (tokens of letters, digits, _ and -, no wildcards)');
  else if (subject === names.root || subject.startsWith(`${names.root}.`)) problems.push(`subject must not be under "${names.root}.": replaying into Pulse's own subjects would store events twice`);
  const time = (k: 'from' | 'to') => {
    const v = input[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) problems.push(`${k} must be an ISO date-time`);
    return typeof v === 'string' ? new Date(Date.parse(v)).toISOString() : undefined;
  };
  const seq = (k: 'fromSeq' | 'toSeq') => {
    const v = input[k];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || (v as number) < 1) problems.push(`${k} must be a stream sequence >= 1`);
    return v as number;
  };
  const from = time('from');
  const to = time('to');
  const fromSeq = seq('fromSeq');
  const toSeq = seq('toSeq');
  if (from === undefined && fromSeq === undefined) problems.push('say where the replay starts: from (event time) or fromSeq (stream sequence)');
  if (from && to && Date.parse(to) <= Date.parse(from)) problems.push('to must be after from');
  if (fromSeq && toSeq && toSeq < fromSeq) problems.push('toSeq must be at least fromSeq');
  const types = input.types;
  if (types !== undefined && (!Array.isArray(types) || types.some((t) => !(eventTypes as string[]).includes(t as string)))) problems.push(`types must be a list of event types (${eventTypes.join(', ')})`);
  const rate = input.ratePerSecond ?? 5000;
  if (!Number.isInteger(rate) || (rate as number) < 1 || (rate as number) > 1_000_000) problems.push('ratePerSecond must be an integer between 1 and 1000000');
  const reason = typeof input.reason === 'string' ? input.reason.trim() : '';
  if (reason.length < 3) problems.push('a reason is required (it goes in the audit record)');
  if (problems.length) return { ok: false, problems };
  return { ok: true, request: { subject, from, to, fromSeq, toSeq, types: types as string[] | undefined, ratePerSecond: rate as number, reason } };
}
