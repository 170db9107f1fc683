import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { RouterLink } from '@angular/router';
import type { NowTile as Tile, Unit } from '../api/contract';
import { Sparkline } from '../charts/sparkline';
import { changeAgainst, formatValue } from '../display/display';

/** One headline number with its trend and how it compares with yesterday and last week. */
@Component({
  selector: 'pulse-now-tile',
  imports: [RouterLink, Sparkline],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <a class="tile" [routerLink]="['/metric', tile().metric]" [class.stale]="stale()" [attr.data-testid]="'tile-' + tile().key"
      [attr.aria-label]="tile().title + ': ' + value() + (stale() ? ' (not live)' : '') + '. Open the ' + tile().metric + ' chart.'">
      <span class="tile-title">{{ tile().title }}</span>
      <span class="tile-value num" data-testid="tile-value">{{ value() }}</span>
      <pulse-sparkline class="tile-spark" [points]="tile().sparkline" />
      <span class="tile-changes">
        @for (c of changes(); track c.label) {
          <span class="change" [attr.data-tone]="c.change?.tone ?? 'neutral'" [attr.data-testid]="'tile-change-' + c.key">
            <span class="num">{{ c.change ? arrow(c.change.direction) + ' ' + c.change.text : '–' }}</span>
            <span class="muted">{{ c.label }}</span>
          </span>
        }
      </span>
    </a>
  `,
})
export class NowTile {
  readonly tile = input.required<Tile>();
  readonly currency = input.required<string>();
  readonly higherIsBetter = input<boolean | undefined>(undefined);
  /** The catalogue's unit for the metric, where it knows better than the tile (an average order value is money). */
  readonly unit = input<Unit | undefined>(undefined);
  readonly stale = input(false);

  protected readonly value = computed(() => formatValue(this.tile().value, this.unit() ?? this.tile().unit, this.currency()));

  protected readonly changes = computed(() => {
    const { value, comparison } = this.tile();
    return [
      { key: 'yesterday', label: 'vs yesterday', change: changeAgainst(value, comparison?.yesterday ?? null, this.higherIsBetter()) },
      { key: 'last-week', label: 'vs last week', change: changeAgainst(value, comparison?.lastWeek ?? null, this.higherIsBetter()) },
    ];
  });

  protected arrow(direction: 'up' | 'down' | 'flat'): string {
    return direction === 'up' ? '\u2191' : direction === 'down' ? '\u2193' : '\u2192';
  }
}
