import { ChangeDetectionStrategy, Component, computed, inject, input, resource } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import type { BreakdownResponse, Dims } from '../api/contract';
import { isMoneyByCurrency, MetricCatalogue } from '../catalogue/metric-catalogue';
import { formatValue } from '../display/display';
import { Preferences } from '../display/preferences';

export interface TimeRange {
  from: number;
  to: number;
}

/**
 * The largest values of one metric by one dimension (`GET /breakdown`): top products, top searches,
 * failures by step or reason. Filters apply only where the catalogue says the metric has that
 * dimension; the list says which were applied and which the metric cannot take.
 */
@Component({
  selector: 'pulse-breakdown-list',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'panel', '[attr.data-testid]': '"breakdown-" + metric() + "-" + by()' },
  template: `
    <h2>{{ heading() }}</h2>
    <p class="muted small">
      {{ definition()?.title ?? metric() }} by {{ by() }}
      @if (applied().length) { · filtered by {{ applied().join(', ') }} }
      @if (ignored().length) { · not filterable by {{ ignored().join(', ') }} }
    </p>
    @if (rows.error(); as e) {
      <p class="error" role="alert">{{ describe(e) }}</p>
    } @else if (rows.hasValue() && rows.value(); as r) {
      <ol class="bars">
        @for (row of r.rows; track $index) {
          <li data-testid="breakdown-row">
            <span class="bar-label" [title]="label(row.dims)">{{ label(row.dims) }}</span>
            <span class="bar-track" aria-hidden="true"><span class="bar-fill" [style.width.%]="share(row.value)"></span></span>
            <span class="num">{{ value(row.value) }}</span>
          </li>
        } @empty {
          <li class="muted">Nothing in this period.</li>
        }
      </ol>
    } @else {
      <p class="muted" aria-busy="true">Loading…</p>
    }
  `,
})
export class BreakdownList {
  readonly heading = input.required<string>();
  readonly metric = input.required<string>();
  readonly by = input.required<string>();
  readonly range = input.required<TimeRange>();
  readonly filters = input<Dims>({});
  readonly limit = input(10);

  private readonly api = inject(Api);
  private readonly catalogue = inject(MetricCatalogue);
  private readonly preferences = inject(Preferences);

  protected readonly definition = computed(() => this.catalogue.metric(this.metric()));

  private readonly usable = computed(() => {
    const dims = this.definition()?.dimensions ?? [];
    const applied: string[] = [];
    const ignored: string[] = [];
    const filter: string[] = [];
    for (const [dim, value] of Object.entries(this.filters())) {
      if (!value || dim === this.by()) continue;
      if (dims.includes(dim)) {
        applied.push(`${dim} ${value}`);
        filter.push(`${dim}:${value}`);
      } else ignored.push(dim);
    }
    // Money is summed per currency only: ask for the currency chosen on the overview.
    if (isMoneyByCurrency(this.definition()) && this.by() !== 'currency') filter.push(`currency:${this.preferences.currency()}`);
    return { applied, ignored, filter };
  });
  protected readonly applied = computed(() => this.usable().applied);
  protected readonly ignored = computed(() => this.usable().ignored);

  protected readonly rows = resource({
    params: () => ({ metric: this.metric(), by: this.by(), range: this.range(), filter: this.usable().filter, limit: this.limit() }),
    loader: ({ params, abortSignal }) =>
      this.api.get<BreakdownResponse>(
        '/breakdown',
        { metric: params.metric, by: params.by, from: new Date(params.range.from).toISOString(), to: new Date(params.range.to).toISOString(), limit: params.limit, filter: params.filter },
        { signal: abortSignal },
      ),
  });

  private readonly max = computed(() => {
    const rows = this.rows.hasValue() ? (this.rows.value()?.rows ?? []) : [];
    return rows.reduce((m, r) => Math.max(m, r.value ?? 0), 0);
  });

  protected label(dims: Dims): string {
    return dims[this.by()] ?? (Object.values(dims).join(' · ') || '(none)');
  }

  protected share(value: number | null): number {
    const max = this.max();
    return max > 0 && value ? (value / max) * 100 : 0;
  }

  protected value(value: number | null): string {
    const unit = this.definition()?.unit ?? 'count';
    return formatValue(value, unit, isMoneyByCurrency(this.definition()) && this.by() !== 'currency' ? this.preferences.currency() : null);
  }

  protected describe(error: unknown): string {
    return describeError(error);
  }
}
