import { ChangeDetectionStrategy, Component, computed, inject } from '@angular/core';
import { Display, formatAge } from '../display/display';
import { Freshness } from './freshness';
import { LiveSocket } from './live-socket';

@Component({
  selector: 'pulse-connection-indicator',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <span class="connection" [attr.data-state]="freshness.state()" [title]="explanation()">
      <span class="dot" aria-hidden="true"></span>
      <span role="status" aria-live="polite" data-testid="connection-state">{{ freshness.state() }}</span>
    </span>
    <span class="updated muted" data-testid="last-update">{{ updated() }}</span>
  `,
})
export class ConnectionIndicator {
  protected readonly freshness = inject(Freshness);
  private readonly socket = inject(LiveSocket);
  private readonly display = inject(Display);

  protected readonly updated = computed(() => {
    const age = this.freshness.age();
    return age === null ? 'no data yet' : `updated ${formatAge(age)}`;
  });

  protected readonly explanation = computed(() => {
    switch (this.freshness.state()) {
      case 'live':
        return 'Live connection up, updates arriving.';
      case 'stale':
        return `Connected, but no update since ${this.display.time(this.freshness.staleSince())}.`;
      default:
        return this.socket.problem() ?? 'The live connection is down; reconnecting.';
    }
  });
}
