import { afterNextRender, ChangeDetectionStrategy, Component, computed, ElementRef, inject, Injector, input, output, resource } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import type { CorrectionsResponse, Grain, Unit } from '../api/contract';
import { Display, formatDelta, formatValue, toMs } from '../display/display';

export interface BucketRef {
  metric: string;
  grain: Grain;
  /** Bucket start, epoch ms. */
  t: number;
}

/**
 * "Why is this number what it is?" for one bucket: when each late correction was recorded, how many
 * late events it carried and how far it moved the value. This is what lets an operator trust a number
 * that changed after they first saw it.
 */
@Component({
  selector: 'pulse-correction-history',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'panel correction-history', 'data-testid': 'correction-history', role: 'region', '[attr.aria-label]': '"Correction history"', tabindex: '-1' },
  template: `
    <header class="panel-header">
      <h2>Correction history</h2>
      <button type="button" class="ghost" (click)="closed.emit()" data-testid="correction-history-close">Close</button>
    </header>
    <p class="muted">{{ title() }} · {{ bucket().grain }} bucket starting {{ display.dateTime(bucket().t) }}</p>
    @if (history.error(); as error) {
      <p class="error" role="alert">{{ describe(error) }}</p>
    } @else if (history.hasValue() && history.value(); as h) {
      <dl class="facts">
        <div><dt>Value now</dt><dd class="num" data-testid="correction-value">{{ fmt(h.value) }}</dd></div>
        <div><dt>State</dt><dd><span class="badge" [class.final]="h.final">{{ h.final ? 'final' : 'provisional' }}</span></dd></div>
        <div><dt>Revisions</dt><dd class="num">{{ h.history.length }}</dd></div>
        <div><dt>Late events</dt><dd class="num">{{ lateEvents() }}</dd></div>
        @if (h.history.length && h.value !== null) {
          <div><dt>Before corrections</dt><dd class="num">{{ fmt(h.value - moved()) }}</dd></div>
        }
      </dl>
      @if (h.history.length) {
        <table class="data">
          <caption class="visually-hidden">Corrections of this bucket, oldest first</caption>
          <thead><tr><th scope="col">Recorded</th><th scope="col" class="num">Late events</th><th scope="col" class="num">Moved the value by</th><th scope="col">Watermark then</th><th scope="col" class="num">Partition</th></tr></thead>
          <tbody>
            @for (c of sorted(); track $index) {
              <tr data-testid="correction-row">
                <td>{{ display.dateTime(c.recordedAt) }}</td>
                <td class="num">{{ c.lateEvents }}</td>
                <td class="num" [class.up]="c.delta > 0" [class.down]="c.delta < 0">{{ delta(c.delta) }}</td>
                <td>{{ display.time(c.watermark) }}</td>
                <td class="num">{{ c.partition }}</td>
              </tr>
            }
          </tbody>
        </table>
      } @else {
        <p class="muted" data-testid="no-corrections">No late corrections recorded for this bucket{{ h.final ? '' : ' (it is still provisional: events arriving now are on time, not late)' }}.</p>
      }
    } @else {
      <p class="muted" aria-busy="true">Loading…</p>
    }
  `,
})
export class CorrectionHistory {
  readonly bucket = input.required<BucketRef>();
  readonly unit = input<Unit>('count');
  readonly currency = input<string | null>(null);
  readonly title = input('');
  readonly closed = output<void>();

  protected readonly display = inject(Display);
  private readonly api = inject(Api);

  protected readonly history = resource({
    params: () => this.bucket(),
    loader: ({ params, abortSignal }) =>
      this.api.get<CorrectionsResponse>('/corrections', { metric: params.metric, grain: params.grain, bucket: new Date(params.t).toISOString() }, { signal: abortSignal }),
  });

  protected readonly sorted = computed(() => {
    const h = this.history.hasValue() ? this.history.value() : undefined;
    return [...(h?.history ?? [])].sort((a, b) => (toMs(a.recordedAt) ?? 0) - (toMs(b.recordedAt) ?? 0));
  });
  protected readonly moved = computed(() => this.sorted().reduce((sum, c) => sum + c.delta, 0));
  protected readonly lateEvents = computed(() => this.sorted().reduce((sum, c) => sum + c.lateEvents, 0));

  constructor() {
    // Keyboard users who opened the panel from a marker land in it.
    const host = inject(ElementRef<HTMLElement>);
    afterNextRender(() => (host.nativeElement as HTMLElement).focus(), { injector: inject(Injector) });
  }

  protected fmt(value: number | null): string {
    return formatValue(value, this.unit(), this.currency());
  }

  protected delta(value: number): string {
    return formatDelta(value, this.unit(), this.currency());
  }

  protected describe(error: unknown): string {
    return describeError(error);
  }
}
