import { ChangeDetectionStrategy, Component, computed, inject, input, resource } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import type { FunnelResponse } from '../api/contract';
import { formatCount, formatPercent } from '../display/display';
import type { TimeRange } from './breakdown-list';

/** Sessions to orders, step by step (`GET /funnel`), with the conversion from each step to the next. */
@Component({
  selector: 'pulse-checkout-funnel',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'panel', 'data-testid': 'funnel' },
  template: `
    <h2>Checkout funnel</h2>
    <p class="muted small">Not filterable: the funnel endpoint takes a period only.</p>
    @if (funnel.error(); as e) {
      <p class="error" role="alert">{{ describe(e) }}</p>
    } @else if (funnel.hasValue() && funnel.value(); as f) {
      <ol class="funnel">
        @for (step of f.steps; track step.metric; let first = $first) {
          <li data-testid="funnel-step">
            <span class="bar-label">{{ step.title }}</span>
            <span class="bar-track" aria-hidden="true"><span class="bar-fill" [style.width.%]="share(step.value)"></span></span>
            <span class="num">{{ count(step.value) }}</span>
            <span class="num muted" [attr.aria-label]="first ? null : 'conversion from the previous step'">{{ first ? '' : percent(step.conversionFromPrevious) }}</span>
          </li>
        } @empty {
          <li class="muted">No funnel data for this period.</li>
        }
      </ol>
    } @else {
      <p class="muted" aria-busy="true">Loading…</p>
    }
  `,
})
export class CheckoutFunnel {
  readonly range = input.required<TimeRange>();
  private readonly api = inject(Api);

  protected readonly funnel = resource({
    params: () => this.range(),
    loader: ({ params, abortSignal }) =>
      this.api.get<FunnelResponse>('/funnel', { from: new Date(params.from).toISOString(), to: new Date(params.to).toISOString() }, { signal: abortSignal }),
  });

  private readonly top = computed(() => (this.funnel.hasValue() ? (this.funnel.value()?.steps[0]?.value ?? 0) : 0));

  protected share(value: number): number {
    const top = this.top();
    return top > 0 ? Math.min(100, (value / top) * 100) : 0;
  }

  protected count(v: number): string {
    return formatCount(v);
  }

  protected percent(v: number | null): string {
    return formatPercent(v);
  }

  protected describe(error: unknown): string {
    return describeError(error);
  }
}
