import {
  afterRenderEffect,
  ChangeDetectionStrategy,
  Component,
  computed,
  DestroyRef,
  ElementRef,
  inject,
  input,
  output,
  signal,
  untracked,
  viewChild,
} from '@angular/core';
import uPlot from 'uplot';
import type { Grain } from '../api/contract';
import { Display } from '../display/display';
import { Preferences } from '../display/preferences';
import { dimsLabel, type BucketPoint, type BucketSeries } from './series-points';

export const GRAIN_MS: Record<Grain, number> = { '1s': 1_000, '1m': 60_000, '1h': 3_600_000, '1d': 86_400_000 };

const PALETTE = ['#4c8dff', '#f5a524', '#17b890', '#e5484d', '#9b6cff', '#12a4c8', '#e8589a', '#8fb82a'];
const MAX_MARKERS = 150;

interface Marker {
  t: number;
  /** The bucket's start as ISO-8601, as the API names buckets (for tests and tools). */
  bucket: string;
  x: number;
  y: number;
  revisions: number;
  lateEvents: number;
  label: string;
}

interface Hover {
  t: number;
  left: number;
  rows: { label: string; color: string; point: BucketPoint | undefined }[];
}

/**
 * Buckets over time with their reconciliation state: final buckets solid, provisional ones light and
 * dashed (they will still move), and a marker on every bucket that late events revised. One series is
 * drawn as bars; a breakdown as lines, one colour per dimension value.
 *
 * uPlot draws on canvas; the revision markers and the tooltip are real DOM (buttons with labels), so
 * they can be reached by keyboard and found by tests.
 */
@Component({
  selector: 'pulse-time-series-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <div class="chart" #frame [class.stale]="stale()" tabindex="0" data-testid="live-chart" role="group"
      [attr.aria-label]="label() + '. Use the left and right arrow keys to move between buckets and Enter to show a bucket\\'s correction history.'"
      (keydown)="onKey($event)" (mouseleave)="hover.set(null)">
      <div #host class="chart-host" [style.height.px]="height()"></div>
      <div class="marker-layer" [style.left.px]="layer().left" [style.top.px]="layer().top" [style.width.px]="layer().width">
        @for (m of markers(); track m.t) {
          <button type="button" class="revision-marker" data-testid="revision-marker" [attr.data-bucket]="m.bucket" [class.selected]="m.t === selected()"
            [style.left.px]="m.x" [style.top.px]="m.y" [attr.aria-label]="m.label" [title]="m.label" (click)="choose(m.t)">{{ m.revisions }}</button>
        }
      </div>
      @if (hover(); as h) {
        <div class="chart-tooltip" [style.left.px]="h.left" data-testid="chart-tooltip">
          <div class="tooltip-time">{{ display.dateTime(h.t) }}</div>
          @for (row of h.rows; track row.label) {
            <div class="tooltip-row">
              <span class="swatch" [style.background]="row.color"></span>
              <span>{{ row.label }}</span>
              <strong class="num">{{ format()(row.point?.value ?? null) }}</strong>
              @if (row.point; as p) {
                <span class="badge" [class.final]="p.final">{{ p.final ? 'final' : 'provisional' }}</span>
                @if (p.revisions > 0) {
                  <span class="muted">{{ p.revisions }} revision{{ p.revisions === 1 ? '' : 's' }}, {{ p.lateEvents }} late</span>
                }
              }
            </div>
          }
          <div class="muted small">Click for the correction history</div>
        </div>
      }
    </div>
    <div class="chart-legend" aria-hidden="true">
      @if (lines().length > 1) {
        @for (line of lines(); track line.key; let i = $index) {
          <span><span class="swatch" [style.background]="color(i)"></span>{{ line.label }}</span>
        }
      }
      @if (lines().length > 1) {
        <span><span class="line-sample"></span>final</span>
        <span><span class="line-sample provisional"></span>provisional (watermark not yet past)</span>
      } @else {
        <span><span class="swatch final"></span>final</span>
        <span><span class="swatch provisional"></span>provisional (watermark not yet past)</span>
      }
      <span><span class="legend-marker">n</span>revised by n late corrections</span>
    </div>
  `,
})
export class TimeSeriesChart {
  readonly series = input.required<BucketSeries[]>();
  readonly grain = input.required<Grain>();
  readonly format = input.required<(value: number | null) => string>();
  readonly axisFormat = input<(value: number) => string>((v) => new Intl.NumberFormat(undefined, { notation: 'compact' }).format(v));
  /** Width of the visible window; the newest bucket sits at the right edge, so the chart scrolls. */
  readonly windowMs = input<number | null>(null);
  readonly stale = input(false);
  readonly selected = input<number | null>(null);
  readonly label = input('Time series');
  readonly bucketSelected = output<number>();

  protected readonly display = inject(Display);
  private readonly preferences = inject(Preferences);
  private readonly host = viewChild.required<ElementRef<HTMLElement>>('host');
  private readonly frame = viewChild.required<ElementRef<HTMLElement>>('frame');

  protected readonly markers = signal<Marker[]>([]);
  protected readonly layer = signal({ left: 0, top: 0, width: 0 });
  protected readonly hover = signal<Hover | null>(null);
  protected readonly height = computed(() => (this.preferences.wall() ? 420 : 280));

  private plot: uPlot | null = null;
  private keyboardIndex: number | null = null;

  protected readonly lines = computed(() => this.series().map((s) => ({ key: s.key, label: dimsLabel(s.dims), points: s.points })));
  private readonly grainMs = computed(() => GRAIN_MS[this.grain()]);

  /** What forces a new uPlot instance (series layout, time zone, type size); anything else is setData. */
  private readonly structure = computed(() => ({
    lines: this.lines().length,
    bars: this.lines().length <= 1,
    utc: this.preferences.utc(),
    wall: this.preferences.wall(),
    height: this.height(),
    grain: this.grain(),
  }));

  /** Bucket starts (ms) of every series together: uPlot's x values, in order. */
  private readonly buckets = computed(() => [...new Set(this.lines().flatMap((l) => l.points.map((p) => p.t)))].sort((a, b) => a - b));

  private readonly data = computed<uPlot.AlignedData>(() => {
    const lines = this.lines();
    const half = this.grainMs() / 2;
    const ts = this.buckets();
    const columns: (number | null)[][] = [];
    for (const line of lines) {
      const byT = new Map(line.points.map((p) => [p.t, p]));
      const final: (number | null)[] = [];
      const provisional: (number | null)[] = [];
      ts.forEach((t, i) => {
        const p = byT.get(t);
        final.push(p && p.final ? p.value : null);
        provisional.push(p && !p.final ? p.value : null);
        // Lines: the provisional stretch starts at the last final bucket, so the two join up.
        if (lines.length > 1 && p && p.final) {
          const next = byT.get(ts[i + 1]);
          if (next && !next.final) provisional[i] = p.value;
        }
      });
      columns.push(final, provisional);
    }
    return [ts.map((t) => (t + half) / 1000), ...columns] as uPlot.AlignedData;
  });

  constructor() {
    const destroyRef = inject(DestroyRef);
    let observer: ResizeObserver | null = null;

    afterRenderEffect(() => {
      const structure = this.structure();
      untracked(() => this.build(structure.bars));
      if (!observer) {
        observer = new ResizeObserver(() => this.plot?.setSize({ width: this.width(), height: this.height() }));
        observer.observe(this.host().nativeElement);
      }
    });
    afterRenderEffect(() => {
      const data = this.data();
      this.windowMs();
      this.plot?.setData(data);
    });
    afterRenderEffect(() => {
      this.selected();
      this.format();
      const plot = this.plot;
      if (plot) untracked(() => this.placeMarkers(plot));
    });
    destroyRef.onDestroy(() => {
      observer?.disconnect();
      this.plot?.destroy();
    });
  }

  protected color(index: number): string {
    return PALETTE[index % PALETTE.length];
  }

  protected choose(t: number): void {
    this.bucketSelected.emit(t);
  }

  protected onKey(event: KeyboardEvent): void {
    const plot = this.plot;
    const xs = this.buckets();
    if (!plot || !xs.length || event.target !== this.frame().nativeElement) return;
    if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
      const last = xs.length - 1;
      const current = this.keyboardIndex ?? last;
      this.keyboardIndex = Math.max(0, Math.min(last, current + (event.key === 'ArrowLeft' ? -1 : 1)));
      plot.setCursor({ left: plot.valToPos((xs[this.keyboardIndex] + this.grainMs() / 2) / 1000, 'x'), top: plot.over.clientHeight / 2 });
      event.preventDefault();
    } else if (event.key === 'Enter' && this.keyboardIndex !== null) {
      this.choose(xs[this.keyboardIndex]);
      event.preventDefault();
    } else if (event.key === 'Escape') {
      this.keyboardIndex = null;
      this.hover.set(null);
    }
  }

  private width(): number {
    return Math.max(200, this.host().nativeElement.clientWidth);
  }

  private build(bars: boolean): void {
    this.plot?.destroy();
    const host = this.host().nativeElement;
    const style = getComputedStyle(host);
    const text = style.getPropertyValue('--chart-text').trim() || '#888';
    const grid = style.getPropertyValue('--chart-grid').trim() || 'rgba(128,128,128,.2)';
    const font = this.preferences.wall() ? '16px system-ui, sans-serif' : '11px system-ui, sans-serif';
    const utc = this.preferences.utc();
    const lines = untracked(this.lines);
    // uPlot's own labels are 12-hour; operators read 24-hour times, in the zone chosen in the header.
    const grain = untracked(this.grain);
    const timeLabel = new Intl.DateTimeFormat(undefined, {
      ...(grain === '1h' ? { month: 'short', day: 'numeric' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      ...(grain === '1s' ? { second: '2-digit' } : {}),
      hourCycle: 'h23',
      timeZone: utc ? 'UTC' : undefined,
    });

    const series: uPlot.Series[] = [{}];
    lines.forEach((line, i) => {
      const color = bars ? PALETTE[0] : this.color(i);
      if (bars) {
        const paths = uPlot.paths.bars!({ size: [0.8, 60], align: 0 });
        series.push({ label: `${line.label} final`, stroke: color, fill: color, width: 1, paths, points: { show: false } });
        series.push({ label: `${line.label} provisional`, stroke: color, fill: `${color}44`, width: 1, dash: [4, 3], paths, points: { show: false } });
      } else {
        series.push({ label: `${line.label} final`, stroke: color, width: 2, points: { show: false } });
        series.push({ label: `${line.label} provisional`, stroke: `${color}aa`, width: 2, dash: [5, 4], points: { show: false } });
      }
    });
    if (!lines.length) series.push({ label: 'final', points: { show: false } }, { label: 'provisional', points: { show: false } });

    const opts: uPlot.Options = {
      width: this.width(),
      height: this.height(),
      legend: { show: false },
      cursor: { y: false, points: { show: false }, drag: { x: false, y: false } },
      tzDate: utc ? (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC') : undefined,
      scales: {
        x: { time: true, range: (_u, min, max) => this.xRange(min, max) },
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.12 : 1] },
      },
      axes: [
        { stroke: text, font, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (_u, splits) => splits.map((v) => timeLabel.format(v * 1000)) },
        { stroke: text, font, size: this.preferences.wall() ? 90 : 60, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: (_u, splits) => splits.map((v) => this.axisFormat()(v)) },
      ],
      series,
      hooks: {
        // Hooks run inside the render effects that call setData: keep their reads out of those effects.
        draw: [(u) => untracked(() => this.placeMarkers(u))],
        setCursor: [(u) => untracked(() => this.onCursor(u))],
      },
    };
    this.plot = new uPlot(opts, untracked(this.data), host);
    this.plot.over.addEventListener('click', () => {
      const idx = this.plot?.cursor.idx;
      const t = idx === null || idx === undefined ? undefined : this.buckets()[idx];
      if (t !== undefined) this.choose(t);
    });
  }

  /** The newest bucket at the right edge and `windowMs` of history to its left. */
  private xRange(min: number | null, max: number | null): uPlot.Range.MinMax {
    const grain = this.grainMs() / 1000;
    const window = this.windowMs();
    if (max === null || min === null) {
      const now = Date.now() / 1000;
      return [now - (window ?? 300_000) / 1000, now];
    }
    const right = max + grain / 2;
    return [window ? right - window / 1000 : min - grain / 2, right];
  }

  private placeMarkers(u: uPlot): void {
    const frame = this.frame().nativeElement.getBoundingClientRect();
    const over = u.over.getBoundingClientRect();
    this.layer.set({ left: over.left - frame.left, top: over.top - frame.top, width: over.width });
    const half = this.grainMs() / 2;
    const revised = new Map<number, { revisions: number; lateEvents: number; top: number | null }>();
    for (const line of this.lines()) {
      for (const p of line.points) {
        if (p.revisions <= 0) continue;
        const entry = revised.get(p.t) ?? { revisions: 0, lateEvents: 0, top: null };
        entry.revisions = Math.max(entry.revisions, p.revisions);
        entry.lateEvents += p.lateEvents;
        if (p.value !== null) entry.top = Math.max(entry.top ?? p.value, p.value);
        revised.set(p.t, entry);
      }
    }
    const markers: Marker[] = [];
    const [xMin, xMax] = [u.scales['x'].min ?? 0, u.scales['x'].max ?? 0];
    for (const [t, entry] of [...revised].sort((a, b) => b[0] - a[0])) {
      const xv = (t + half) / 1000;
      if (xv < xMin || xv > xMax) continue;
      const x = u.valToPos(xv, 'x');
      const y = entry.top === null ? 8 : Math.max(8, u.valToPos(entry.top, 'y') - 10);
      markers.push({
        t,
        bucket: new Date(t).toISOString(),
        x,
        y,
        revisions: entry.revisions,
        lateEvents: entry.lateEvents,
        label: `Bucket ${this.display.dateTime(t)} revised ${entry.revisions} time${entry.revisions === 1 ? '' : 's'} by ${entry.lateEvents} late event${entry.lateEvents === 1 ? '' : 's'}: show correction history`,
      });
      if (markers.length >= MAX_MARKERS) break;
    }
    this.markers.set(markers);
  }

  private onCursor(u: uPlot): void {
    const idx = u.cursor.idx;
    const t = idx === null || idx === undefined ? undefined : this.buckets()[idx];
    if (t === undefined) {
      this.hover.set(null);
      return;
    }
    const bars = this.lines().length <= 1;
    this.hover.set({
      t,
      left: this.layer().left + (u.cursor.left ?? 0),
      rows: this.lines().map((line, i) => ({ label: line.label, color: bars ? PALETTE[0] : this.color(i), point: line.points.find((p) => p.t === t) })),
    });
  }
}
