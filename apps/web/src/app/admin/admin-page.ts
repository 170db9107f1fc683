import { ChangeDetectionStrategy, Component, computed, DestroyRef, effect, inject, resource, untracked } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import { listOf, type OperationRecord, type ProjectionStatus } from '../api/contract';
import { Display, formatCount, formatDuration } from '../display/display';
import { DeadLetters } from './dead-letters';
import { RebuildForm } from './rebuild-form';
import { isTerminal, RebuildTracker } from './rebuild-tracker';

const REFRESH_MS = 5000;

function versionText(version: ProjectionStatus['servedVersion'] | undefined): string | null {
  return version === null || version === undefined ? null : String(version);
}

@Component({
  selector: 'pulse-admin-page',
  imports: [RebuildForm, DeadLetters],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <header class="page-header"><h1>Admin</h1></header>

    <section class="panel" aria-labelledby="projections-title">
      <header class="panel-header">
        <h2 id="projections-title">Projections</h2>
        <button type="button" (click)="projections.reload()">Refresh</button>
      </header>
      @if (projections.error(); as e) {
        <p class="error" role="alert">{{ describe(e) }}</p>
      }
      <div class="table-scroll">
        <table class="data" data-testid="projections-table">
          <thead>
            <tr>
              <th scope="col">Projection</th><th scope="col" class="num">Served version</th><th scope="col">Versions</th><th scope="col" class="num">Checkpoint</th>
              <th scope="col" class="num">Lag (events)</th><th scope="col" class="num">Lag</th><th scope="col" class="num">Events/s</th><th scope="col">Watermark</th>
              <th scope="col">Last error</th><th scope="col" class="num">Dead letters</th>
            </tr>
          </thead>
          <tbody>
            @for (p of rows(); track p.projection) {
              <tr [attr.data-testid]="'projection-' + p.projection">
                <th scope="row">{{ p.projection }}</th>
                <td class="num" [attr.data-testid]="'served-version-' + p.projection">{{ p.servedVersion ?? '–' }}</td>
                <td class="small">
                  @for (v of p.versions ?? []; track v.version) {
                    <span class="badge" [class.final]="v.status === 'live' || v.status === 'serving' || v.status === 'served'">v{{ v.version }} {{ v.status }}</span>
                  }
                </td>
                <td class="num">{{ p.checkpoint ?? '–' }}</td>
                <td class="num">{{ count(p.lagEvents) }}</td>
                <td class="num">{{ duration(p.lagSeconds) }}</td>
                <td class="num">{{ rate(p.eventsPerSecond) }}</td>
                <td>{{ display.time(p.watermark) }}</td>
                <td class="wrap" [class.error]="!!p.lastError">{{ errorText(p.lastError) }}</td>
                <td class="num">{{ count(p.deadLetters) }}</td>
              </tr>
            } @empty {
              <tr><td colspan="10" class="muted">{{ projections.isLoading() ? 'Loading…' : 'No projections reported.' }}</td></tr>
            }
          </tbody>
        </table>
      </div>
    </section>

    <div class="grid two">
      <section class="panel" aria-labelledby="rebuild-title">
        <h2 id="rebuild-title">Rebuild a projection</h2>
        <pulse-rebuild-form [projections]="projectionNames()" [busy]="running()" (started)="onStarted($event.record, $event.projection)" />
      </section>

      <section class="panel" aria-labelledby="progress-title" data-testid="rebuild-status">
        <h2 id="progress-title">Progress</h2>
        @if (tracker.current(); as r) {
          <p>Rebuild <code>{{ r.id }}</code> of <strong>{{ r.projection }}</strong>: <span data-testid="rebuild-state">{{ r.status }}</span></p>
          <div class="progress" role="progressbar" data-testid="rebuild-progress" aria-label="Rebuild progress" aria-valuemin="0" aria-valuemax="100"
            [attr.aria-valuenow]="percentRounded()" [attr.aria-valuetext]="percentRounded() + '%, ' + r.status" [attr.data-status]="r.status">
            <div class="progress-fill" [style.width.%]="tracker.percent()"></div>
          </div>
          <p class="num">
            {{ percentRounded() }}% · {{ count(r.processed) }} processed · {{ count(r.remaining) }} remaining
            · {{ rate(r.eventsPerSecond) }} events/s · ETA {{ isTerminal(r.status) ? '–' : duration(r.etaSeconds) }}
          </p>
          <p class="muted small">Updates via {{ r.via === 'socket' ? 'the live socket' : r.via === 'http' ? 'polling every second' : '…' }}</p>
          @if (r.status === 'completed') {
            @if (switched()) {
              <p class="ok" role="status" data-testid="rebuild-done">Done: {{ r.projection }} now serves version {{ servedNow() }} (was {{ r.servedBefore ?? 'none' }}).</p>
            } @else {
              <p role="status">Completed; waiting for {{ r.projection }} to switch to the new version…</p>
            }
          } @else if (isTerminal(r.status)) {
            <p class="error" role="status">The rebuild ended {{ r.status }}; {{ r.projection }} still serves version {{ servedNow() ?? '–' }}.</p>
          }
          @if (r.error) { <p class="error" role="alert">{{ r.error }}</p> }
          <div class="actions">
            @if (!isTerminal(r.status)) {
              <button type="button" class="danger" data-testid="rebuild-cancel" [disabled]="tracker.cancelling()" (click)="tracker.cancel()">{{ tracker.cancelling() ? 'Cancelling…' : 'Cancel rebuild' }}</button>
            } @else {
              <button type="button" class="ghost" (click)="tracker.clear()">Dismiss</button>
            }
          </div>
          @if (tracker.cancelError(); as e) { <p class="error" role="alert">{{ e }}</p> }
        } @else {
          <p class="muted">No rebuild is being followed. Start one, or a running one shows here.</p>
        }
      </section>
    </div>

    <section class="panel" aria-labelledby="history-title">
      <header class="panel-header">
        <h2 id="history-title">Rebuild and replay history</h2>
        <button type="button" (click)="history.reload()">Refresh</button>
      </header>
      @if (history.error(); as e) {
        <p class="error" role="alert">{{ describe(e) }}</p>
      }
      <div class="table-scroll">
        <table class="data" data-testid="rebuild-history">
          <thead>
            <tr><th scope="col">Requested</th><th scope="col">Kind</th><th scope="col">Target</th><th scope="col">Mode / from</th><th scope="col">Status</th><th scope="col">By</th><th scope="col">Reason</th><th scope="col">Finished</th></tr>
          </thead>
          <tbody>
            @for (op of historyRows(); track op.id) {
              <tr data-testid="history-row">
                <td>{{ display.dateTime(op.createdAt ?? op.startedAt) }}</td>
                <td>{{ op.kind ?? 'rebuild' }}</td>
                <td>{{ op.projection ?? op.subject ?? '–' }}</td>
                <td>{{ modeText(op) }}</td>
                <td><span class="badge" [class.final]="op.status === 'completed'">{{ op.status ?? '–' }}</span></td>
                <td>{{ op.requestedBy ?? '–' }}</td>
                <td class="wrap">{{ op.reason ?? '' }}</td>
                <td>{{ display.dateTime(op.finishedAt) }}</td>
              </tr>
            } @empty {
              <tr><td colspan="8" class="muted">No rebuilds or replays recorded.</td></tr>
            }
          </tbody>
        </table>
      </div>
    </section>

    <pulse-dead-letters />
  `,
})
export class AdminPage {
  protected readonly display = inject(Display);
  private readonly api = inject(Api);
  protected readonly tracker = new RebuildTracker();
  protected readonly isTerminal = isTerminal;

  protected readonly projections = resource({
    loader: ({ abortSignal }) => this.api.get<unknown>('/admin/projections', {}, { signal: abortSignal }).then((b) => listOf<ProjectionStatus>(b)),
  });
  protected readonly rows = computed(() => (this.projections.hasValue() ? (this.projections.value() ?? []) : []));
  protected readonly projectionNames = computed(() => this.rows().map((p) => p.projection));

  protected readonly history = resource({
    loader: ({ abortSignal }) => this.api.get<unknown>('/admin/rebuilds', {}, { signal: abortSignal }).then((b) => listOf<OperationRecord>(b)),
  });
  protected readonly historyRows = computed(() => (this.history.hasValue() ? (this.history.value() ?? []) : []));

  protected readonly servedNow = computed(() => {
    const r = this.tracker.current();
    return r ? versionText(this.rows().find((p) => p.projection === r.projection)?.servedVersion) : null;
  });
  /** Completed is not enough: the rebuild is done when the projection serves what it built. */
  protected readonly switched = computed(() => {
    const r = this.tracker.current();
    return !!r && r.status === 'completed' && this.servedNow() !== null && this.servedNow() !== r.servedBefore;
  });
  protected readonly running = computed(() => {
    const r = this.tracker.current();
    return !!r && !isTerminal(r.status);
  });
  protected readonly percentRounded = computed(() => Math.floor(this.tracker.percent()));

  constructor() {
    // While a completed rebuild waits for its switch, ask every second; otherwise every few seconds.
    let last = 0;
    const timer = setInterval(() => {
      const waiting = this.tracker.current()?.status === 'completed' && !this.switched();
      if (waiting || Date.now() - last >= REFRESH_MS) {
        last = Date.now();
        this.projections.reload();
        if (!waiting) this.history.reload();
      }
    }, 1000);
    inject(DestroyRef).onDestroy(() => clearInterval(timer));

    // A rebuild already running when the page opens is followed too.
    effect(() => {
      const running = this.historyRows().find((op) => (op.kind ?? 'rebuild') === 'rebuild' && op.status && !isTerminal(op.status));
      if (!running || untracked(this.tracker.current)) return;
      const projection = running.projection ?? '';
      untracked(() => this.tracker.track(running, projection, versionText(this.rows().find((p) => p.projection === projection)?.servedVersion)));
    });
    // The history shows the end of a rebuild as soon as it ends.
    effect(() => {
      if (isTerminal(this.tracker.current()?.status)) untracked(() => this.history.reload());
    });
  }

  protected onStarted(record: OperationRecord, projection: string): void {
    this.tracker.track(record, projection, versionText(this.rows().find((p) => p.projection === projection)?.servedVersion));
    this.history.reload();
  }

  /** Mode and start of a rebuild; the API keeps them in `options`. */
  protected modeText(op: OperationRecord): string {
    const mode = op.mode ?? op.options?.mode;
    const from = op.from ?? op.options?.from;
    return `${mode ?? '–'}${from !== undefined && from !== null ? ' · ' + from : ''}`;
  }

  protected count(v: number | null | undefined): string {
    return formatCount(v);
  }

  protected rate(v: number | null | undefined): string {
    return v === null || v === undefined ? '–' : new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 }).format(v);
  }

  protected duration(s: number | null | undefined): string {
    return formatDuration(s);
  }

  protected errorText(error: ProjectionStatus['lastError']): string {
    if (!error) return '–';
    return typeof error === 'string' ? error : (error.message ?? JSON.stringify(error));
  }

  protected describe(error: unknown): string {
    return describeError(error);
  }
}
