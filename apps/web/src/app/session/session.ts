import { computed, Injectable, signal } from '@angular/core';
import type { SessionInfo } from '../api/contract';

const TOKEN_KEY = 'pulse.token';

/**
 * Who is signed in. The token lives in sessionStorage: it survives a reload but not the tab, so a
 * wall display left open does not keep an admin token around for the next browser session.
 */
@Injectable({ providedIn: 'root' })
export class Session {
  readonly token = signal<string | null>(sessionStorage.getItem(TOKEN_KEY));
  /** Known once `GET /session` answered for the token (after sign-in, or again after a reload). */
  readonly user = signal<SessionInfo | null>(null);
  /** Why the last session ended, for the sign-in page. */
  readonly notice = signal<string | null>(null);
  readonly isAdmin = computed(() => this.user()?.role === 'admin');

  begin(token: string, user: SessionInfo): void {
    sessionStorage.setItem(TOKEN_KEY, token);
    this.notice.set(null);
    this.user.set(user);
    this.token.set(token);
  }

  end(notice: string | null = null): void {
    sessionStorage.removeItem(TOKEN_KEY);
    this.user.set(null);
    this.token.set(null);
    this.notice.set(notice);
  }
}

export function mayUseConsole(user: SessionInfo | null): boolean {
  return user?.role === 'operator' || user?.role === 'admin';
}
