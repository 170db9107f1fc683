import { ChangeDetectionStrategy, Component, computed, inject, input, linkedSignal, signal } from '@angular/core';
import type { LiveGrain, MetricDefinition } from '../api/contract';
import { isMoneyByCurrency, MetricCatalogue } from '../catalogue/metric-catalogue';
import { CorrectionHistory, type BucketRef } from '../corrections/correction-history';
import { Display, formatValue } from '../display/display';
import { Preferences } from '../display/preferences';
import { Freshness } from '../live/freshness';
import { LiveSeries, type SeriesQuery } from './live-series';
import { TimeSeriesChart } from './time-series-chart';

const LIVE_GRAINS: LiveGrain[] = ['1s', '1m', '1h'];
/** Each grain's window keeps a chart of 180-300 buckets: readable, and far below the 2,000-bucket limit. */
const WINDOW_SECONDS: Record<LiveGrain, number> = { '1s': 300, '1m': 3 * 3600, '1h': 7 * 86_400 };
const WINDOW_LABEL: Record<LiveGrain, string> = { '1s': 'last 5 minutes', '1m': 'last 3 hours', '1h': 'last 7 days' };
const MAX_LINES = 8;

/** A live chart of one metric with its controls, and the correction history of the bucket picked on it. */
@Component({
  selector: 'pulse-live-metric-panel',
  imports: [TimeSeriesChart, CorrectionHistory],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="panel" aria-labelledby="live-chart-title">
      <header class="panel-header">
        <h2 id="live-chart-title">{{ metric()?.title ?? metricName() }} <span class="muted">· {{ grain() }} buckets, {{ windowLabel() }}</span></h2>
        <div class="controls">
          @if (chooseMetric()) {
            <label>Metric
              <select data-testid="chart-metric" [value]="metricName()" (change)="pickMetric($any($event.target).value)">
                @for (m of catalogue.metrics(); track m.name) {
                  <option [value]="m.name" [selected]="m.name === metricName()">{{ m.title }}</option>
                }
              </select>
            </label>
          }
          @if (chooseBreakdown() && (metric()?.dimensions?.length ?? 0) > 0) {
            <label>Break down by
              <select data-testid="chart-breakdown" [value]="groupBy()" (change)="pickBreakdown($any($event.target).value)">
                <option value="" [selected]="!groupBy()">nothing (total)</option>
                @for (d of metric()?.dimensions ?? []; track d) {
                  <option [value]="d" [selected]="d === groupBy()">{{ d }}</option>
                }
              </select>
            </label>
          }
          <fieldset class="segmented">
            <legend class="visually-hidden">Bucket size</legend>
            @for (g of grains(); track g) {
              <button type="button" [attr.aria-pressed]="g === grain()" [attr.data-testid]="'chart-grain-' + g" (click)="pickGrain(g)"
                [disabled]="g === '1s' && !!groupBy()" [title]="g === '1s' && groupBy() ? '1s buckets keep totals only' : ''">{{ g }}</button>
            }
          </fieldset>
        </div>
      </header>
      <p class="chart-status muted">
        @if (live.watermark(); as w) { watermark {{ display.time(w) }} · }
        revision <span class="num" data-testid="chart-revision">{{ live.revision() }}</span>
        @if (live.source() === 'http') { · <strong>fetched over HTTP, live connection down</strong> }
        @if (note(); as n) { · {{ n }} }
      </p>
      @if (live.error(); as e) {
        <p class="error" role="alert" data-testid="chart-error">{{ e }}</p>
      }
      <pulse-time-series-chart
        [series]="shown()"
        [grain]="grain()"
        [format]="format()"
        [axisFormat]="axisFormat()"
        [windowMs]="windowSeconds() * 1000"
        [stale]="freshness.state() !== 'live'"
        [selected]="selected()?.t ?? null"
        [label]="(metric()?.title ?? metricName()) + ' per ' + grain() + ' bucket'"
        (bucketSelected)="select($event)" />
      @if (live.loading()) {
        <p class="muted" aria-busy="true">Loading buckets…</p>
      } @else if (!shown().length) {
        <p class="muted" data-testid="chart-empty">No buckets in this window yet.</p>
      }
    </section>
    @if (selected(); as bucket) {
      <pulse-correction-history [bucket]="bucket" [unit]="metric()?.unit ?? 'count'" [currency]="currency()" [title]="metric()?.title ?? bucket.metric" (closed)="selected.set(null)" />
    }
  `,
})
export class LiveMetricPanel {
  /** The metric to start with (or to show, when it cannot be chosen here). */
  readonly initialMetric = input('orders', { alias: 'metric' });
  readonly chooseMetric = input(false);
  readonly chooseBreakdown = input(false);

  protected readonly catalogue = inject(MetricCatalogue);
  protected readonly display = inject(Display);
  protected readonly freshness = inject(Freshness);
  private readonly preferences = inject(Preferences);

  protected readonly metricName = linkedSignal(() => this.initialMetric());
  protected readonly metric = computed<MetricDefinition | undefined>(() => this.catalogue.metric(this.metricName()));
  protected readonly grains = computed(() => LIVE_GRAINS.filter((g) => this.metric()?.grains.includes(g) ?? g !== '1s'));
  private readonly pickedGrain = signal<LiveGrain>('1s');
  protected readonly grain = computed<LiveGrain>(() => {
    const allowed = this.grains();
    const picked = this.pickedGrain();
    if (this.groupBy() && picked === '1s') return allowed.find((g) => g !== '1s') ?? '1m';
    return allowed.includes(picked) ? picked : (allowed[0] ?? '1m');
  });
  protected readonly groupBy = linkedSignal<string, string>({ source: this.metricName, computation: () => '' });
  protected readonly windowSeconds = computed(() => WINDOW_SECONDS[this.grain()]);
  protected readonly windowLabel = computed(() => WINDOW_LABEL[this.grain()]);
  protected readonly selected = signal<BucketRef | null>(null);

  /**
   * Money is kept per currency. From 1m up the chart asks for the currency chosen in the header; 1s
   * buckets keep totals only, so there the sum across currencies is shown in minor units, labelled.
   */
  protected readonly currency = computed<string | null>(() => {
    const metric = this.metric();
    if (!isMoneyByCurrency(metric)) return this.preferences.currency();
    return this.grain() === '1s' || this.groupBy() === 'currency' ? null : this.preferences.currency();
  });

  private readonly query = computed<SeriesQuery | null>(() => {
    const metric = this.metric();
    if (!metric) return null;
    const groupBy = this.groupBy() || undefined;
    const currency = this.currency();
    const filters = isMoneyByCurrency(metric) && currency && groupBy !== 'currency' ? { currency } : undefined;
    return { metric: metric.name, grain: this.grain(), windowSeconds: this.windowSeconds(), groupBy, filters };
  });

  protected readonly live = new LiveSeries(() => this.query());

  /** A breakdown shows its largest lines; the rest would be unreadable. */
  protected readonly shown = computed(() => {
    const series = this.live.series();
    if (series.length <= MAX_LINES) return series;
    const total = (s: (typeof series)[number]) => s.points.reduce((sum, p) => sum + (p.value ?? 0), 0);
    return [...series].sort((a, b) => total(b) - total(a)).slice(0, MAX_LINES);
  });

  protected readonly note = computed(() => {
    const notes: string[] = [];
    if (isMoneyByCurrency(this.metric())) notes.push(this.currency() ? `in ${this.currency()}` : 'all currencies summed, in minor units');
    if (this.groupBy() && this.live.series().length > MAX_LINES) notes.push(`largest ${MAX_LINES} of ${this.live.series().length} ${this.groupBy()} values`);
    return notes.join(' · ');
  });

  protected readonly format = computed(() => {
    const unit = this.metric()?.unit ?? 'count';
    const currency = this.currency();
    return (value: number | null) => formatValue(value, unit, currency);
  });

  protected readonly axisFormat = computed(() => {
    const unit = this.metric()?.unit ?? 'count';
    const currency = this.currency();
    return (value: number) => formatValue(value, unit, currency, true).replace(' minor units', '');
  });

  protected pickMetric(name: string): void {
    this.metricName.set(name);
    this.selected.set(null);
  }

  protected pickGrain(grain: LiveGrain): void {
    this.pickedGrain.set(grain);
    this.selected.set(null);
  }

  protected pickBreakdown(dimension: string): void {
    this.groupBy.set(dimension);
    this.selected.set(null);
  }

  protected select(t: number): void {
    this.selected.set({ metric: this.metricName(), grain: this.grain(), t });
  }
}
