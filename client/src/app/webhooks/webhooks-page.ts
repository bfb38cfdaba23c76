import { ChangeDetectionStrategy, Component } from '@angular/core';
import { TranslocoPipe } from '@jsverse/transloco';

/** Placeholder: says webhooks are coming. */
@Component({
  selector: 'app-webhooks-page',
  imports: [TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="page" aria-labelledby="webhooks-heading">
      <h1 id="webhooks-heading">{{ 'webhooks.heading' | transloco }}</h1>
      <p class="lead">{{ 'webhooks.coming' | transloco }}</p>
    </section>
  `,
  styles: `
    .page {
      max-width: 1100px;
      margin: 0 auto;
      padding: 24px 16px;
    }
    h1 {
      font: var(--mat-sys-headline-small);
      margin: 0 0 4px;
    }
    .lead {
      color: var(--mat-sys-on-surface-variant);
      max-width: 60ch;
    }
  `,
})
export class WebhooksPage {}
