// Incidents are windows of simulated time in which the traffic model behaves badly on purpose, so
// the demo (and the alert rules) have something real to notice.

export type IncidentKind = 'checkout_regression' | 'stockout' | 'payment_failures';

export const incidentKinds: readonly IncidentKind[] = ['checkout_regression', 'stockout', 'payment_failures'];

export interface Incident {
  kind: IncidentKind;
  /** Event time the incident starts, epoch ms, included. */
  fromMs: number;
  /** Event time it ends, epoch ms, excluded. */
  toMs: number;
  /** For `stockout`: the SKU that runs out. Default: one of the three most popular, rotating. */
  sku?: string;
}

export interface DemoScheduleOptions {
  /** Quiet time before the first incident, so the dashboards first show a normal baseline. */
  firstAfterMs?: number;
  everyMs?: number;
  durationMs?: number;
  /** How far the schedule reaches. */
  spanMs?: number;
}

/** An incident of a rotating kind every few minutes, each lasting a minute or two. */
export function demoIncidents(startMs: number, options: DemoScheduleOptions = {}): Incident[] {
  const { firstAfterMs = 2 * 60_000, everyMs = 4 * 60_000, durationMs = 90_000, spanMs = 24 * 3600_000 } = options;
  if (durationMs >= everyMs) throw new Error('incidents must be shorter than the interval between them');
  const incidents: Incident[] = [];
  for (let i = 0, from = startMs + firstAfterMs; from < startMs + spanMs; i++, from += everyMs) {
    incidents.push({ kind: incidentKinds[i % incidentKinds.length], fromMs: from, toMs: from + durationMs });
  }
  return incidents;
}
