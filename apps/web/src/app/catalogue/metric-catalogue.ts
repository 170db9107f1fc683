import { computed, inject, Injectable, resource } from '@angular/core';
import { Api } from '../api/api-client';
import type { MetricDefinition } from '../api/contract';
import { Session } from '../session/session';

/** The metric catalogue (`GET /metrics`), loaded once per session: every screen renders metrics from it. */
@Injectable({ providedIn: 'root' })
export class MetricCatalogue {
  private readonly api = inject(Api);
  private readonly session = inject(Session);

  private readonly loaded = resource({
    params: () => (this.session.user() ? this.session.token() : undefined),
    loader: ({ abortSignal }) => this.api.get<MetricDefinition[]>('/metrics', {}, { signal: abortSignal }),
  });

  readonly metrics = computed<MetricDefinition[]>(() => (this.loaded.hasValue() ? (this.loaded.value() ?? []) : []));
  readonly error = computed(() => this.loaded.error());
  private readonly byName = computed(() => new Map(this.metrics().map((m) => [m.name, m])));

  metric(name: string): MetricDefinition | undefined {
    return this.byName().get(name);
  }
}

/** Money metrics are kept per currency; a sum across currencies is not money. */
export function isMoneyByCurrency(metric: MetricDefinition | undefined): boolean {
  return metric?.unit === 'minor_units' && metric.dimensions.includes('currency');
}
