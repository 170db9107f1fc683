import { ChangeDetectionStrategy, Component, computed, inject, resource, signal } from '@angular/core';
import { Api, describeError } from '../api/api-client';
import { listOf, type DeadLetter } from '../api/contract';
import { Display } from '../display/display';

const PAGE = 50;

/**
 * Events Pulse refused or could not project, with why. An admin inspects one (reason, field errors,
 * the original bytes) and re-submits selected letters or all of them once the cause is fixed.
 */
@Component({
  selector: 'pulse-dead-letters',
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { class: 'panel', 'data-testid': 'dead-letters' },
  template: `
    <header class="panel-header">
      <h2>Dead letters</h2>
      <div class="controls">
        <label>Stage
          <select data-testid="dead-letter-stage" (change)="setFilter('stage', $any($event.target).value)">
            <option value="">all</option><option value="ingest">ingest</option><option value="projector">projector</option>
          </select>
        </label>
        <label>Code <input data-testid="dead-letter-code" size="14" placeholder="e.g. invalid_data" (change)="setFilter('code', $any($event.target).value)" /></label>
        <button type="button" (click)="letters.reload()">Refresh</button>
      </div>
    </header>
    @if (letters.error(); as e) {
      <p class="error" role="alert">{{ describe(e) }}</p>
    } @else {
      <div class="actions">
        <button type="button" data-testid="resubmit-selected" [disabled]="!selected().size || resubmitting()" (click)="resubmit({ seqs: [...selected()] })">Re-submit selected ({{ selected().size }})</button>
        @if (confirmAll()) {
          <button type="button" class="danger" data-testid="resubmit-all-confirm" [disabled]="resubmitting()" (click)="resubmitAll()">Confirm: re-submit all{{ filter().code ? ' with code ' + filter().code : '' }}</button>
          <button type="button" class="ghost" (click)="confirmAll.set(false)">Keep them</button>
        } @else {
          <button type="button" data-testid="resubmit-all" [disabled]="!rows().length || resubmitting()" (click)="confirmAll.set(true)">Re-submit all{{ filter().code ? ' with code ' + filter().code : '' }}…</button>
        }
        <span role="status" aria-live="polite" data-testid="resubmit-result">{{ result() }}</span>
      </div>
      <div class="table-scroll">
        <table class="data">
          <thead>
            <tr>
              <th scope="col"><input type="checkbox" aria-label="Select all shown" [checked]="allSelected()" (change)="selectAll($any($event.target).checked)" /></th>
              <th scope="col" class="num">Seq</th><th scope="col">Received</th><th scope="col">Stage</th><th scope="col">Code</th><th scope="col">Event type</th><th scope="col">Reason</th><th scope="col"><span class="visually-hidden">Inspect</span></th>
            </tr>
          </thead>
          <tbody>
            @for (d of rows(); track d.seq) {
              <tr data-testid="dead-letter-row" [class.selected-row]="inspecting() === d.seq">
                <td><input type="checkbox" [attr.aria-label]="'Select dead letter ' + d.seq" [checked]="selected().has(d.seq)" (change)="toggle(d.seq, $any($event.target).checked)" /></td>
                <td class="num">{{ d.seq }}</td>
                <td>{{ display.dateTime(d.receivedAt) }}</td>
                <td>{{ d.stage ?? '–' }}</td>
                <td><code>{{ d.code ?? '–' }}</code></td>
                <td>{{ d.eventType ?? '–' }}</td>
                <td class="wrap">{{ d.reason ?? '' }}</td>
                <td><button type="button" class="ghost" data-testid="dead-letter-inspect" (click)="inspecting.set(d.seq)">Inspect</button></td>
              </tr>
            } @empty {
              <tr><td colspan="8" class="muted">No dead letters{{ filter().stage || filter().code ? ' matching the filter' : '' }}.</td></tr>
            }
          </tbody>
        </table>
      </div>
      <div class="actions">
        @if (before() !== null) { <button type="button" (click)="before.set(null)">Newest</button> }
        @if (rows().length === page) { <button type="button" (click)="older()">Older</button> }
      </div>
    }

    @if (inspecting() !== null) {
      <section class="inspect" aria-labelledby="dl-inspect-title" data-testid="dead-letter-detail">
        <header class="panel-header">
          <h3 id="dl-inspect-title">Dead letter {{ inspecting() }}</h3>
          <button type="button" class="ghost" (click)="inspecting.set(null)">Close</button>
        </header>
        @if (detail.error(); as e) {
          <p class="error" role="alert">{{ describe(e) }}</p>
        } @else if (detail.hasValue() && detail.value(); as d) {
          <dl class="facts">
            <div><dt>Reason</dt><dd>{{ d.reason ?? '–' }}</dd></div>
            <div><dt>Code</dt><dd><code>{{ d.code ?? '–' }}</code></dd></div>
            <div><dt>Stage</dt><dd>{{ d.stage ?? '–' }}</dd></div>
            <div><dt>Received</dt><dd>{{ display.dateTime(d.receivedAt) }}</dd></div>
            @if (d.producer) { <div><dt>Producer</dt><dd>{{ d.producer }}</dd></div> }
            @if (d.eventId) { <div><dt>Event id</dt><dd><code>{{ d.eventId }}</code></dd></div> }
            @if (d.originalSubject) { <div><dt>Subject</dt><dd><code>{{ d.originalSubject }}</code></dd></div> }
          </dl>
          @if (d.errors?.length) {
            <h4>Errors</h4>
            <ul class="field-errors">
              @for (err of d.errors; track $index) {
                <li><code>{{ err.field || err.pointer || '(event)' }}</code> {{ err.message }}</li>
              }
            </ul>
          }
          <h4>Original body</h4>
          <pre class="body" tabindex="0" data-testid="dead-letter-body">{{ body(d.body) }}</pre>
        } @else {
          <p class="muted" aria-busy="true">Loading…</p>
        }
      </section>
    }
  `,
})
export class DeadLetters {
  protected readonly display = inject(Display);
  private readonly api = inject(Api);
  protected readonly page = PAGE;
  protected readonly filter = signal<{ stage?: string; code?: string }>({});
  protected readonly before = signal<number | null>(null);
  protected readonly selected = signal(new Set<number>());
  protected readonly inspecting = signal<number | null>(null);
  protected readonly confirmAll = signal(false);
  protected readonly resubmitting = signal(false);
  protected readonly result = signal('');

  protected readonly letters = resource({
    params: () => ({ ...this.filter(), before: this.before() }),
    loader: ({ params, abortSignal }) =>
      this.api.get<unknown>('/admin/dead-letters', { stage: params.stage, code: params.code, before: params.before, limit: PAGE }, { signal: abortSignal }).then((body) => listOf<DeadLetter>(body)),
  });
  protected readonly rows = computed(() => (this.letters.hasValue() ? (this.letters.value() ?? []) : []));
  protected readonly allSelected = computed(() => this.rows().length > 0 && this.rows().every((d) => this.selected().has(d.seq)));

  protected readonly detail = resource({
    params: () => this.inspecting() ?? undefined,
    loader: ({ params, abortSignal }) => this.api.get<DeadLetter>(`/admin/dead-letters/${params}`, {}, { signal: abortSignal }),
  });

  protected setFilter(key: 'stage' | 'code', value: string): void {
    this.filter.update((f) => ({ ...f, [key]: value.trim() || undefined }));
    this.before.set(null);
    this.selected.set(new Set());
  }

  protected older(): void {
    const rows = this.rows();
    if (rows.length) this.before.set(Math.min(...rows.map((d) => d.seq)));
  }

  protected toggle(seq: number, on: boolean): void {
    this.selected.update((s) => {
      const next = new Set(s);
      if (on) next.add(seq);
      else next.delete(seq);
      return next;
    });
  }

  protected selectAll(on: boolean): void {
    this.selected.set(on ? new Set(this.rows().map((d) => d.seq)) : new Set());
  }

  protected resubmitAll(): void {
    const code = this.filter().code;
    void this.resubmit(code ? { all: true, code } : { all: true });
  }

  protected async resubmit(body: { seqs: number[] } | { all: true; code?: string }): Promise<void> {
    this.resubmitting.set(true);
    this.result.set('');
    try {
      const answer = await this.api.post<Record<string, unknown> | null>('/admin/dead-letters/resubmit', body);
      const count = answer && typeof answer === 'object' ? (answer['resubmitted'] ?? answer['count']) : undefined;
      this.result.set(typeof count === 'number' ? `Re-submitted ${count}.` : 'Re-submitted.');
      this.selected.set(new Set());
      this.confirmAll.set(false);
      this.letters.reload();
    } catch (error) {
      this.result.set(`Re-submit failed: ${describeError(error)}`);
    } finally {
      this.resubmitting.set(false);
    }
  }

  /** The original bytes, pretty-printed when they are JSON. */
  protected body(body: unknown): string {
    if (body === undefined || body === null) return '(no body kept)';
    if (typeof body !== 'string') return JSON.stringify(body, null, 2);
    try {
      return JSON.stringify(JSON.parse(body), null, 2);
    } catch {
      return body;
    }
  }

  protected describe(error: unknown): string {
    return describeError(error);
  }
}
