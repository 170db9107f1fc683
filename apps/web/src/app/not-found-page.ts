import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'pulse-not-found-page',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="panel narrow">
      <h1>Page not found</h1>
      <p><a routerLink="/">Back to the live overview</a></p>
    </section>
  `,
})
export class NotFoundPage {}
