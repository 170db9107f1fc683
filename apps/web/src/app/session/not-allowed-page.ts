import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink } from '@angular/router';
import { Session } from './session';

@Component({
  selector: 'pulse-not-allowed-page',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="panel narrow" data-testid="not-allowed">
      <h1>Not allowed</h1>
      <p>This page is for admins. You are signed in as <strong>{{ session.user()?.name }}</strong> with the role <strong>{{ session.user()?.role }}</strong>.</p>
      <p><a routerLink="/">Back to the live overview</a></p>
    </section>
  `,
})
export class NotAllowedPage {
  protected readonly session = inject(Session);
}
