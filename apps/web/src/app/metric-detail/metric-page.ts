import { ChangeDetectionStrategy, Component, computed, DestroyRef, inject, input, linkedSignal, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { MetricCatalogue } from '../catalogue/metric-catalogue';
import { LiveMetricPanel } from '../charts/live-metric-panel';
import { Display } from '../display/display';
import { BreakdownList, type TimeRange } from '../operations/breakdown-list';

/**
 * Drill-down from an overview tile: the metric's live chart, broken down by one of its dimensions,
 * and the ranking of that dimension's values over the last hour.
 */
@Component({
  selector: 'pulse-metric-page',
  imports: [RouterLink, LiveMetricPanel, BreakdownList],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <nav class="breadcrumb" aria-label="Breadcrumb"><a routerLink="/">Live overview</a> / {{ metric()?.title ?? name() }}</nav>
    <header class="page-header">
      <h1>{{ metric()?.title ?? name() }}</h1>
    </header>
    @if (metric(); as m) {
      <p class="muted">{{ m.description }}
        @if (m.kind === 'ratio') { Computed per bucket as {{ m.numerator }} / {{ m.denominator }}. }
        @if (m.higherIsBetter !== undefined) { {{ m.higherIsBetter ? 'Higher is better.' : 'Lower is better.' }} }
      </p>
      <pulse-live-metric-panel [metric]="m.name" [chooseBreakdown]="true" />
      @if (m.dimensions.length) {
        <section class="panel">
          <header class="panel-header">
            <h2>Ranking, last hour</h2>
            <label>By
              <select data-testid="ranking-dimension" (change)="dimension.set($any($event.target).value)">
                @for (d of m.dimensions; track d) {
                  <option [value]="d" [selected]="d === dimension()">{{ d }}</option>
                }
              </select>
            </label>
          </header>
          <pulse-breakdown-list [heading]="m.title + ' by ' + dimension()" [metric]="m.name" [by]="dimension()" [range]="range()" [limit]="20" />
        </section>
      } @else {
        <p class="muted">This metric has no dimensions to break it down by.</p>
      }
    } @else if (catalogue.metrics().length) {
      <p class="error" role="alert">There is no metric named "{{ name() }}" in the catalogue.</p>
    } @else {
      <p class="muted" aria-busy="true">Loading the catalogue…</p>
    }
  `,
})
export class MetricPage {
  /** Route parameter `:name`. */
  readonly name = input.required<string>();
  protected readonly catalogue = inject(MetricCatalogue);
  protected readonly display = inject(Display);
  protected readonly metric = computed(() => this.catalogue.metric(this.name()));
  protected readonly dimension = linkedSignal(() => this.metric()?.dimensions[0] ?? '');
  private readonly tick = signal(0);
  protected readonly range = computed<TimeRange>(() => {
    this.tick();
    const to = Date.now();
    return { from: to - 3_600_000, to };
  });

  constructor() {
    const timer = setInterval(() => this.tick.update((n) => n + 1), 30_000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));
  }
}
