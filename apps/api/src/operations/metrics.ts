import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { Problem } from '../http/problem.js';

/** Prometheus metrics of this API instance, served at GET /metrics. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  private readonly events = new Counter({ name: 'pulse_ingest_events_total', help: 'Events received over HTTP, by producer and outcome', labelNames: ['producer', 'outcome'], registers: [this.registry] });
  private readonly requests = new Counter({ name: 'pulse_ingest_requests_failed_total', help: 'Ingestion requests answered with an error, by producer and code', labelNames: ['producer', 'code'], registers: [this.registry] });
  readonly lagEvents = new Gauge({ name: 'pulse_projector_lag_events', help: 'Events stored but not yet projected, per partition', labelNames: ['partition'], registers: [this.registry] });
  readonly lagSeconds = new Gauge({ name: 'pulse_projector_lag_seconds', help: 'Event time between the newest stored event and the watermark', registers: [this.registry] });
  readonly pushLatency = new Histogram({ name: 'pulse_push_latency_seconds', help: 'From the projector publishing a change to this API pushing it to clients', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: [this.registry] });
  readonly clients = new Gauge({ name: 'pulse_live_clients', help: 'Connected live clients', registers: [this.registry] });
  readonly subscriptions = new Gauge({ name: 'pulse_live_subscriptions', help: 'Distinct live subscriptions (shared by clients asking the same)', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'pulse_api_' });
  }

  ingested(producer: string, accepted: number, rejected: number): void {
    this.events.inc({ producer, outcome: 'accepted' }, accepted);
    if (rejected) this.events.inc({ producer, outcome: 'rejected' }, rejected);
  }

  ingestFailed(producer: string, error: unknown): void {
    this.requests.inc({ producer, code: error instanceof Problem ? error.code : 'internal_error' });
  }
}
