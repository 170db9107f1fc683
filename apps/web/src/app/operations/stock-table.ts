import { ChangeDetectionStrategy, Component, inject, input, resource } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import type { StockRow } from '../api/contract';
import { Display, formatCount, formatDuration } from '../display/display';

/** Stock that is out or running low (`GET /inventory/stock?status=…`), with what it costs in lost demand. */
@Component({
  selector: 'pulse-stock-table',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'panel', '[attr.data-testid]': '"stock-" + status()' },
  template: `
    <h2>{{ status() === 'out' ? 'Out of stock' : 'Low stock' }}</h2>
    @if (stock.error(); as e) {
      <p class="error" role="alert">{{ describe(e) }}</p>
    } @else if (stock.hasValue() && stock.value(); as s) {
      <div class="table-scroll">
        <table class="data">
          <thead>
            <tr>
              <th scope="col">SKU</th><th scope="col">Warehouse</th><th scope="col" class="num">Available</th>
              <th scope="col" class="num">Selling per hour</th><th scope="col" class="num">Time to stockout</th><th scope="col" class="num">Lost demand</th><th scope="col">Reported</th>
            </tr>
          </thead>
          <tbody>
            @for (row of s.rows; track row.sku + '@' + row.warehouse) {
              <tr data-testid="stock-row">
                <th scope="row">{{ row.sku }}</th>
                <td>{{ row.warehouse }}</td>
                <td class="num">{{ count(row.available) }} <span class="muted">/ {{ count(row.reorderPoint) }}</span></td>
                <td class="num">{{ rate(row.unitsPerHour) }}</td>
                <td class="num">{{ row.status === 'out' || row.available <= 0 ? 'out now' : duration(row.hoursToStockout) }}</td>
                <td class="num" [class.down]="row.lostUnitsPerHour > 0">{{ row.lostUnitsPerHour > 0 ? rate(row.lostUnitsPerHour) + ' units/h' : '–' }}</td>
                <td>{{ display.time(row.reportedAt) }}</td>
              </tr>
            } @empty {
              <tr><td colspan="7" class="muted">{{ status() === 'out' ? 'Nothing is out of stock.' : 'Nothing is running low.' }}</td></tr>
            }
          </tbody>
        </table>
      </div>
    } @else {
      <p class="muted" aria-busy="true">Loading…</p>
    }
  `,
})
export class StockTable {
  readonly status = input.required<'out' | 'low'>();
  /** Changes when the page refreshes. */
  readonly refresh = input(0);
  protected readonly display = inject(Display);
  private readonly api = inject(Api);

  protected readonly stock = resource({
    params: () => ({ status: this.status(), refresh: this.refresh() }),
    loader: ({ params, abortSignal }) => this.api.get<{ rows: StockRow[] }>('/inventory/stock', { status: params.status, limit: 50 }, { signal: abortSignal }),
  });

  protected count(v: number): string {
    return formatCount(v);
  }

  protected rate(v: number | null): string {
    return v === null || v === undefined ? '–' : new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 }).format(v);
  }

  protected duration(hours: number | null): string {
    return hours === null || hours === undefined ? 'not selling' : formatDuration(hours * 3600);
  }

  protected describe(error: unknown): string {
    return describeError(error);
  }
}
