import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, resource, signal } from '@angular/core';
import { Api } from '../api/api-client';
import type { BreakdownResponse, Dims } from '../api/contract';
import { Display } from '../display/display';
import { BreakdownList, type TimeRange } from './breakdown-list';
import { CheckoutFunnel } from './checkout-funnel';
import { StockTable } from './stock-table';

type Period = 'hour' | 'today' | 'day';
const PERIODS: { value: Period; label: string }[] = [
  { value: 'hour', label: 'Last hour' },
  { value: 'today', label: 'Today' },
  { value: 'day', label: 'Last 24 hours' },
];
const REFRESH_MS = 30_000;

/** Where each filter's choices come from: the values a metric that has the dimension saw in the period. */
const FILTERS: { dim: 'channel' | 'country' | 'category'; label: string; source: string }[] = [
  { dim: 'channel', label: 'Channel', source: 'orders' },
  { dim: 'country', label: 'Country', source: 'orders' },
  { dim: 'category', label: 'Category', source: 'category_units' },
];

@Component({
  selector: 'pulse-operations-page',
  imports: [StockTable, CheckoutFunnel, BreakdownList],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-header">
      <h1>Operations</h1>
      <div class="controls" role="group" aria-label="Period and filters">
        <label>Period
          <select data-testid="ops-period" (change)="period.set($any($event.target).value)">
            @for (p of periods; track p.value) {
              <option [value]="p.value" [selected]="p.value === period()">{{ p.label }}</option>
            }
          </select>
        </label>
        @for (f of filterDefs; track f.dim) {
          <label>{{ f.label }}
            <select [attr.data-testid]="'filter-' + f.dim" (change)="setFilter(f.dim, $any($event.target).value)">
              <option value="" [selected]="!filters()[f.dim]">all</option>
              @for (v of options()[f.dim]; track v) {
                <option [value]="v" [selected]="v === filters()[f.dim]">{{ v }}</option>
              }
            </select>
          </label>
        }
        <button type="button" (click)="refresh()">Refresh</button>
      </div>
    </header>
    <p class="muted small">{{ display.dateTime(range().from) }} to {{ display.dateTime(range().to) }}. Filters apply to the lists whose metric has that dimension.</p>

    <div class="grid two">
      <pulse-stock-table status="out" [refresh]="tick()" />
      <pulse-stock-table status="low" [refresh]="tick()" />
    </div>
    <div class="grid two">
      <pulse-checkout-funnel [range]="range()" />
      <pulse-breakdown-list heading="Checkout failures by step" metric="checkout_failures" by="step" [range]="range()" [filters]="filters()" />
      <pulse-breakdown-list heading="Checkout failures by error code" metric="checkout_failures" by="error_code" [range]="range()" [filters]="filters()" />
      <pulse-breakdown-list heading="Payment failures by reason" metric="payment_failures" by="reason" [range]="range()" [filters]="filters()" />
    </div>
    <div class="grid three">
      <pulse-breakdown-list heading="Top products" metric="sku_views" by="sku" [range]="range()" [filters]="filters()" />
      <pulse-breakdown-list heading="Top searches" metric="searches" by="query" [range]="range()" [filters]="filters()" />
      <pulse-breakdown-list heading="Searches without results" metric="zero_result_searches" by="query" [range]="range()" [filters]="filters()" />
    </div>
  `,
})
export class OperationsPage {
  protected readonly display = inject(Display);
  private readonly api = inject(Api);
  protected readonly periods = PERIODS;
  protected readonly filterDefs = FILTERS;
  protected readonly period = signal<Period>('hour');
  protected readonly filters = signal<Dims>({});
  protected readonly tick = signal(0);

  /** Recomputed on every refresh, so "last hour" keeps meaning the last hour. */
  protected readonly range = computed<TimeRange>(() => {
    this.tick();
    const to = Date.now();
    switch (this.period()) {
      case 'hour':
        return { from: to - 3_600_000, to };
      case 'today':
        return { from: this.display.startOfToday(to), to };
      default:
        return { from: to - 86_400_000, to };
    }
  });

  private readonly filterValues = resource({
    params: () => this.range(),
    loader: async ({ params, abortSignal }) => {
      const query = (metric: string, by: string) =>
        this.api
          .get<BreakdownResponse>('/breakdown', { metric, by, from: new Date(params.from).toISOString(), to: new Date(params.to).toISOString(), limit: 50 }, { signal: abortSignal })
          .then((r) => r.rows.map((row) => row.dims[by]).filter((v): v is string => !!v))
          .catch(() => [] as string[]);
      const values = await Promise.all(FILTERS.map((f) => query(f.source, f.dim)));
      return Object.fromEntries(FILTERS.map((f, i) => [f.dim, values[i].sort()])) as Record<string, string[]>;
    },
  });

  protected readonly options = computed<Record<string, string[]>>(() => {
    const loaded = this.filterValues.hasValue() ? (this.filterValues.value() ?? {}) : {};
    const chosen = this.filters();
    // A chosen value stays selectable even if it fell out of the period.
    return Object.fromEntries(FILTERS.map((f) => [f.dim, [...new Set([...(loaded[f.dim] ?? []), ...(chosen[f.dim] ? [chosen[f.dim]] : [])])]]));
  });

  constructor() {
    const timer = setInterval(() => this.refresh(), REFRESH_MS);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }

  protected refresh(): void {
    this.tick.update((n) => n + 1);
  }

  protected setFilter(dim: string, value: string): void {
    this.filters.update((f) => {
      const next = { ...f };
      if (value) next[dim] = value;
      else delete next[dim];
      return next;
    });
  }
}
