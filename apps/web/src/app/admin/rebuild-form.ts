import { ChangeDetectionStrategy, Component, computed, inject, input, linkedSignal, output, signal } from '@angular/core';
import { Api, ApiError, describeError } from '../api/api-client';
import type { OperationRecord, RebuildMode, RebuildRequest } from '../api/contract';
import { Preferences } from '../display/preferences';

const MODES: { value: RebuildMode; label: string }[] = [
  { value: 'full', label: 'Full (from the first event)' },
  { value: 'from-time', label: 'From a time' },
  { value: 'from-sequence', label: 'From a stream sequence' },
];

/** Starts a rebuild (`POST /admin/rebuilds`); every rebuild needs a reason, which goes into the audit history. */
@Component({
  selector: 'pulse-rebuild-form',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <form class="form-grid" (submit)="submit($event)" novalidate aria-describedby="rebuild-help">
      <p id="rebuild-help" class="muted small span-all">A rebuild builds a new version of the projection beside the served one and switches to it when it has caught up; the served numbers stay available meanwhile.</p>
      <label for="rebuild-projection">Projection</label>
      <select id="rebuild-projection" data-testid="rebuild-projection" (change)="projection.set($any($event.target).value)">
        @for (p of projections(); track p) {
          <option [value]="p" [selected]="p === projection()">{{ p }}</option>
        }
      </select>

      <label for="rebuild-mode">Mode</label>
      <select id="rebuild-mode" data-testid="rebuild-mode" (change)="mode.set($any($event.target).value)">
        @for (m of modes; track m.value) {
          <option [value]="m.value" [selected]="m.value === mode()">{{ m.label }}</option>
        }
      </select>

      <label for="rebuild-from">From</label>
      <div>
        <input id="rebuild-from" data-testid="rebuild-from" [disabled]="mode() === 'full'" [value]="from()" (input)="from.set($any($event.target).value)"
          [attr.inputmode]="mode() === 'from-sequence' ? 'numeric' : null" [placeholder]="placeholder()" aria-describedby="rebuild-from-hint"
          [attr.aria-invalid]="fromError() && touched() ? true : null" />
        <p id="rebuild-from-hint" class="muted small">{{ fromHint() }}</p>
      </div>

      <label for="rebuild-reason">Reason</label>
      <textarea id="rebuild-reason" data-testid="rebuild-reason" rows="2" required [value]="reason()" (input)="reason.set($any($event.target).value)"
        placeholder="Why this rebuild is needed (kept in the audit history)" [attr.aria-invalid]="!reason().trim() && touched() ? true : null"></textarea>

      <div class="span-all actions">
        <button type="submit" class="primary" data-testid="rebuild-start" [disabled]="submitting() || busy()">{{ submitting() ? 'Starting…' : 'Start rebuild' }}</button>
        @if (busy()) { <span class="muted">A rebuild is being followed below.</span> }
      </div>
      <p class="error span-all" role="alert" data-testid="rebuild-error">{{ error() }}</p>
    </form>
  `,
})
export class RebuildForm {
  readonly projections = input.required<string[]>();
  /** True while a started rebuild is still running. */
  readonly busy = input(false);
  readonly started = output<{ record: OperationRecord; projection: string }>();

  private readonly api = inject(Api);
  private readonly preferences = inject(Preferences);
  protected readonly modes = MODES;
  protected readonly projection = linkedSignal(() => this.projections()[0] ?? '');
  protected readonly mode = signal<RebuildMode>('full');
  protected readonly from = signal('');
  protected readonly reason = signal('');
  protected readonly submitting = signal(false);
  protected readonly touched = signal(false);
  protected readonly error = signal('');

  protected readonly placeholder = computed(() => (this.mode() === 'from-sequence' ? '123456' : this.mode() === 'from-time' ? '2025-01-31T14:00:00Z' : 'not needed for a full rebuild'));
  protected readonly fromHint = computed(() => {
    switch (this.mode()) {
      case 'from-time':
        return `An ISO-8601 time; without a zone it is read as ${this.preferences.utc() ? 'UTC' : 'your local time'}.`;
      case 'from-sequence':
        return 'A sequence number of the event stream.';
      default:
        return 'A full rebuild replays every stored event.';
    }
  });

  /** The `from` value to send, or why it cannot be sent. */
  private readonly parsedFrom = computed<{ value?: string | number; error?: string }>(() => {
    const raw = this.from().trim();
    switch (this.mode()) {
      case 'full':
        return {};
      case 'from-sequence':
        return /^\d+$/.test(raw) ? { value: Number(raw) } : { error: 'Enter a whole sequence number.' };
      case 'from-time': {
        if (!raw) return { error: 'Enter the time to rebuild from.' };
        const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(raw);
        const ms = Date.parse(hasZone || !this.preferences.utc() ? raw : `${raw.replace(' ', 'T')}Z`);
        return Number.isNaN(ms) ? { error: 'That is not a time; use e.g. 2025-01-31T14:00:00Z.' } : { value: new Date(ms).toISOString() };
      }
    }
  });
  protected readonly fromError = computed(() => this.parsedFrom().error ?? '');

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    this.touched.set(true);
    const from = this.parsedFrom();
    const reason = this.reason().trim();
    if (!this.projection()) return this.error.set('Choose a projection.');
    if (from.error) return this.error.set(from.error);
    if (!reason) return this.error.set('Give a reason: it is kept in the audit history.');
    const request: RebuildRequest = { projection: this.projection(), mode: this.mode(), reason };
    if (from.value !== undefined) request.from = from.value;
    this.submitting.set(true);
    this.error.set('');
    try {
      const record = await this.api.post<OperationRecord>('/admin/rebuilds', request);
      this.started.emit({ record, projection: request.projection });
      this.reason.set('');
      this.touched.set(false);
    } catch (error) {
      // 409 rebuild_running: the server says which rebuild holds the projection.
      this.error.set(error instanceof ApiError && error.status === 409 ? error.detail || 'A rebuild is already running for this projection.' : describeError(error));
    } finally {
      this.submitting.set(false);
    }
  }
}
