import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { Display } from './display/display';
import { Preferences } from './display/preferences';
import { ConnectionIndicator } from './live/connection-indicator';
import { Session } from './session/session';

@Component({
  selector: 'pulse-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, ConnectionIndicator],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="top-bar">
      <a class="brand" routerLink="/">Pulse</a>
      @if (session.user(); as user) {
        <nav aria-label="Main">
          <a routerLink="/" routerLinkActive="active" [routerLinkActiveOptions]="{ exact: true }" ariaCurrentWhenActive="page" data-testid="nav-overview">Overview</a>
          <a routerLink="/reconciliation" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="nav-reconciliation">Reconciliation</a>
          <a routerLink="/operations" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="nav-operations">Operations</a>
          @if (session.isAdmin()) {
            <a routerLink="/admin" routerLinkActive="active" ariaCurrentWhenActive="page" data-testid="nav-admin">Admin</a>
          }
        </nav>
        <div class="top-bar-right">
          <pulse-connection-indicator />
          <button type="button" class="toggle" [attr.aria-pressed]="preferences.utc()" (click)="preferences.utc.set(!preferences.utc())" data-testid="toggle-utc"
            [title]="'Times are shown in ' + display.zoneLabel">{{ preferences.utc() ? 'UTC' : 'Local time' }}</button>
          <button type="button" class="toggle" [attr.aria-pressed]="preferences.wall()" (click)="preferences.wall.set(!preferences.wall())" data-testid="toggle-wall">Wall display</button>
          <span class="who" data-testid="session-user">{{ user.name }} <span class="muted">({{ user.role }})</span></span>
          <button type="button" class="ghost" (click)="signOut()" data-testid="sign-out">Sign out</button>
        </div>
      }
    </header>
    <main id="main" tabindex="-1">
      <router-outlet />
    </main>
  `,
})
export class Shell {
  protected readonly session = inject(Session);
  protected readonly preferences = inject(Preferences);
  protected readonly display = inject(Display);
  private readonly router = inject(Router);

  protected signOut(): void {
    this.session.end('Signed out.');
    void this.router.navigateByUrl('/sign-in');
  }
}
