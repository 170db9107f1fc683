/** An admin operation (rebuild or replay) as stored: the columns of pulse.operations. */
export interface StoredOperation {
  id: string | number;
  kind: string;
  projection: string | null;
  status: string;
  requested_by: string;
  reason: string;
  options: unknown;
  version: number | null;
  start_seq: string | number | null;
  progress?: unknown;
  error?: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at?: Date | null;
}

/**
 * The audit record of an operation as admins see it (API, console, NATS replies): who asked, when,
 * why, with which options, how it went and how long it took. `now` ends the duration of a running one.
 */
export function operationRecord(row: StoredOperation, now: Date) {
  const finished = row.finished_at ?? null;
  return {
    id: Number(row.id),
    kind: row.kind,
    projection: row.projection,
    status: row.status,
    requestedBy: row.requested_by,
    reason: row.reason,
    options: row.options,
    version: row.version,
    startSeq: row.start_seq === null ? null : Number(row.start_seq),
    progress: row.progress ?? null,
    error: row.error ?? null,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: finished?.toISOString() ?? null,
    durationSeconds: row.started_at ? ((finished ?? now).getTime() - row.started_at.getTime()) / 1000 : null,
  };
}
