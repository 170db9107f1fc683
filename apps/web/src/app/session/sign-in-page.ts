import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { Router } from '@angular/router';
import { Api, ApiError } from '../api/api-client';
import type { SessionInfo } from '../api/contract';
import { mayUseConsole, Session } from './session';

@Component({
  selector: 'pulse-sign-in-page',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="panel narrow sign-in">
      <h1>Sign in to Pulse</h1>
      <p class="muted">Paste an operator or admin API token. It is kept in this tab only and sent as a Bearer token to {{ api.origin }}.</p>
      @if (session.notice(); as notice) {
        <p class="notice" role="status" data-testid="sign-in-notice">{{ notice }}</p>
      }
      <form (submit)="submit($event)">
        <label for="token">API token</label>
        <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required data-testid="sign-in-token"
          [value]="token()" (input)="token.set($any($event.target).value)" [attr.aria-invalid]="error() ? true : null" aria-describedby="sign-in-error" />
        <button type="submit" class="primary" data-testid="sign-in-submit" [disabled]="checking()">{{ checking() ? 'Checking…' : 'Sign in' }}</button>
      </form>
      <p id="sign-in-error" class="error" role="alert" data-testid="sign-in-error">{{ error() }}</p>
    </section>
  `,
})
export class SignInPage {
  readonly returnUrl = input<string>();
  protected readonly api = inject(Api);
  protected readonly session = inject(Session);
  private readonly router = inject(Router);
  protected readonly token = signal('');
  protected readonly checking = signal(false);
  protected readonly error = signal('');

  protected async submit(event: Event): Promise<void> {
    event.preventDefault();
    const token = this.token().trim();
    if (!token) {
      this.error.set('Paste a token first.');
      return;
    }
    this.checking.set(true);
    this.error.set('');
    try {
      const user = await this.api.get<SessionInfo>('/session', {}, { token });
      if (!mayUseConsole(user)) {
        this.error.set(`The token "${user.name}" has the role ${user.role}. The console needs an operator or admin token.`);
        return;
      }
      this.session.begin(token, user);
      const target = this.returnUrl();
      await this.router.navigateByUrl(target && target.startsWith('/') && !target.startsWith('//') ? target : '/');
    } catch (error) {
      this.error.set(signInError(error, this.api.origin));
    } finally {
      this.checking.set(false);
    }
  }
}

function signInError(error: unknown, origin: string): string {
  if (!(error instanceof ApiError)) return `Sign-in failed: ${String(error)}`;
  if (error.status === 401) return 'The API does not know this token (401 unauthenticated). Check that it was pasted whole.';
  if (error.status === 403) return 'This token may not use the console (403 forbidden).';
  if (error.status === 0) return `Cannot reach the Pulse API at ${origin}. Is it running, and does /config.json point at it?`;
  return `Sign-in failed: ${error.detail || error.title} (${error.status}).`;
}
