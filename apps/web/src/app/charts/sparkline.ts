import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import type { WireTime } from '../api/contract';
import { toMs } from '../display/display';

const WIDTH = 120;
const HEIGHT = 32;

/** A tile's trend as inline SVG: one path, no chart library per tile. */
@Component({
  selector: 'pulse-sparkline',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <svg class="sparkline" [attr.viewBox]="'0 0 ' + width + ' ' + height" preserveAspectRatio="none" aria-hidden="true" focusable="false">
      @if (path(); as d) {
        <path [attr.d]="d" fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" />
      }
    </svg>
  `,
})
export class Sparkline {
  readonly points = input.required<{ t: WireTime; value: number | null }[]>();
  protected readonly width = WIDTH;
  protected readonly height = HEIGHT;

  protected readonly path = computed(() => {
    const points = this.points()
      .map((p) => ({ t: toMs(p.t), v: p.value }))
      .filter((p): p is { t: number; v: number } => p.t !== null && p.v !== null);
    if (points.length < 2) return null;
    const t0 = points[0].t;
    const t1 = points[points.length - 1].t;
    let min = Infinity;
    let max = -Infinity;
    for (const p of points) {
      min = Math.min(min, p.v);
      max = Math.max(max, p.v);
    }
    const span = max - min || 1;
    const x = (t: number) => ((t - t0) / (t1 - t0 || 1)) * WIDTH;
    const y = (v: number) => HEIGHT - 2 - ((v - min) / span) * (HEIGHT - 4);
    return points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join('');
  });
}
