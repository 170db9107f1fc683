import { ChangeDetectionStrategy, Component, computed, inject, resource, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Api, describeError } from '../api/api-client';
import type { ReconciliationResponse, Unit } from '../api/contract';
import { MetricCatalogue } from '../catalogue/metric-catalogue';
import { CorrectionHistory, type BucketRef } from '../corrections/correction-history';
import { Display, formatCount, formatDelta, formatPercent, formatValue, toMs } from '../display/display';

/** Pulse's days are UTC days (buckets of 1d start at 00:00 UTC), so "today" here is today in UTC. */
function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/**
 * "Why did this number change today?": per metric, how much of today's total arrived late and how many
 * revisions it caused, then the largest single revisions, each opening its correction history.
 */
@Component({
  selector: 'pulse-reconciliation-page',
  imports: [RouterLink, CorrectionHistory],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-header">
      <h1>Reconciliation</h1>
      <label>Day (UTC)
        <input type="date" data-testid="reconciliation-date" [value]="date()" [max]="today" (change)="pickDate($any($event.target).value)" />
      </label>
      <button type="button" (click)="report.reload()">Refresh</button>
    </header>
    <p class="muted">Events are counted by when they happened. A bucket is provisional until the watermark passes it; events that arrive after that are late: they still count, and each revision they cause is recorded here.</p>

    @if (report.error(); as e) {
      <p class="error" role="alert">{{ describe(e) }}</p>
    } @else if (report.hasValue() && report.value(); as r) {
      <section class="panel" aria-labelledby="rec-metrics">
        <h2 id="rec-metrics">Late data by metric, {{ r.date }}</h2>
        <div class="table-scroll">
          <table class="data" data-testid="reconciliation-table">
            <thead>
              <tr>
                <th scope="col">Metric</th><th scope="col" class="num">Total</th><th scope="col" class="num">Arrived late</th>
                <th scope="col" class="num">Late share</th><th scope="col" class="num">Late events</th><th scope="col" class="num">Revisions</th>
              </tr>
            </thead>
            <tbody>
              @for (m of metrics(); track m.metric) {
                <tr [attr.data-testid]="'reconciliation-row-' + m.metric">
                  <th scope="row"><a [routerLink]="['/metric', m.metric]">{{ m.title }}</a></th>
                  <td class="num">{{ value(m.total, m.unit) }}</td>
                  <td class="num">{{ value(m.lateValue, m.unit) }}</td>
                  <td class="num"><span class="share-bar" [style.--share]="m.lateShare ?? 0"></span>{{ percent(m.lateShare) }}</td>
                  <td class="num">{{ count(m.lateEvents) }}</td>
                  <td class="num">{{ count(m.revisions) }}</td>
                </tr>
              } @empty {
                <tr><td colspan="6" class="muted">No metrics reported for this day.</td></tr>
              }
            </tbody>
          </table>
        </div>
        <p class="muted small">Money is shown in minor units summed across currencies: the reconciliation report is not split by currency.</p>
      </section>

      <section class="panel" aria-labelledby="rec-largest">
        <h2 id="rec-largest">Largest revisions</h2>
        <ol class="revision-list" data-testid="largest-revisions">
          @for (rev of r.largestRevisions; track $index) {
            <li>
              <button type="button" class="revision-item" data-testid="largest-revision" [attr.aria-pressed]="isSelected(rev.metric, rev.grain, rev.bucket)" (click)="open(rev.metric, rev.grain, rev.bucket)">
                <span class="rev-metric">{{ title(rev.metric) }}</span>
                <span class="muted">{{ rev.grain }} bucket {{ display.dateTime(rev.bucket) }}</span>
                <strong class="num" [class.up]="rev.delta > 0" [class.down]="rev.delta < 0">{{ delta(rev.delta, rev.metric) }}</strong>
                <span class="num">{{ count(rev.lateEvents) }} late event{{ rev.lateEvents === 1 ? '' : 's' }}</span>
                <span class="muted">recorded {{ display.time(rev.recordedAt) }}</span>
              </button>
            </li>
          } @empty {
            <li class="muted">No revisions on this day: every event arrived before its bucket was final.</li>
          }
        </ol>
      </section>
    } @else {
      <p class="muted" aria-busy="true">Loading…</p>
    }

    @if (selected(); as bucket) {
      <pulse-correction-history [bucket]="bucket" [unit]="unitOf(bucket.metric)" [title]="title(bucket.metric)" (closed)="selected.set(null)" />
    }
  `,
})
export class ReconciliationPage {
  protected readonly display = inject(Display);
  private readonly api = inject(Api);
  private readonly catalogue = inject(MetricCatalogue);
  protected readonly today = utcToday();
  protected readonly date = signal(this.today);
  protected readonly selected = signal<BucketRef | null>(null);

  protected readonly report = resource({
    params: () => this.date(),
    loader: ({ params, abortSignal }) => this.api.get<ReconciliationResponse>('/reconciliation', { date: params }, { signal: abortSignal }),
  });

  /** Most revised first: that is where "why did it change?" is answered. */
  protected readonly metrics = computed(() => {
    const r = this.report.hasValue() ? this.report.value() : undefined;
    return [...(r?.metrics ?? [])].sort((a, b) => b.revisions - a.revisions || (b.lateShare ?? 0) - (a.lateShare ?? 0));
  });

  protected pickDate(value: string): void {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) this.date.set(value);
  }

  protected open(metric: string, grain: BucketRef['grain'], bucket: string | number): void {
    const t = toMs(bucket);
    if (t !== null) this.selected.set({ metric, grain, t });
  }

  protected isSelected(metric: string, grain: string, bucket: string | number): boolean {
    const s = this.selected();
    return !!s && s.metric === metric && s.grain === grain && s.t === toMs(bucket);
  }

  protected unitOf(metric: string): Unit {
    const fromReport = this.report.hasValue() ? this.report.value()?.metrics.find((m) => m.metric === metric)?.unit : undefined;
    return fromReport ?? this.catalogue.metric(metric)?.unit ?? 'count';
  }

  protected title(metric: string): string {
    return this.catalogue.metric(metric)?.title ?? metric;
  }

  protected value(v: number | null, unit: Unit): string {
    return formatValue(v, unit, null);
  }

  protected delta(d: number, metric: string): string {
    return formatDelta(d, this.unitOf(metric), null);
  }

  protected percent(v: number | null): string {
    return formatPercent(v);
  }

  protected count(v: number | null): string {
    return formatCount(v);
  }

  protected describe(error: unknown): string {
    return describeError(error);
  }
}
