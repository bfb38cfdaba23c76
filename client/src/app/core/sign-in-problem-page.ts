import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButton } from '@angular/material/button';
import { TranslocoPipe } from '@jsverse/transloco';
import { Session } from './session';

/**
 * Shown when the browser came back from the identity provider and the API still refuses the
 * session: says why and waits for the person, instead of sending them round again.
 */
@Component({
  selector: 'app-sign-in-problem-page',
  imports: [MatButton, TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="problem" aria-labelledby="sign-in-problem-title">
      <h1 id="sign-in-problem-title">
        <span class="material-symbols-outlined" aria-hidden="true">error</span> {{ 'signInProblem.heading' | transloco }}
      </h1>
      <p data-testid="sign-in-problem-detail">
        {{ session.problem()?.detail ?? ('signInProblem.fallbackDetail' | transloco) }}
      </p>
      @if (session.problem()?.code; as code) {
        <p>
          {{ 'signInProblem.code' | transloco }} <code data-testid="sign-in-problem-code">{{ code }}</code>
        </p>
      }
      <p>{{ 'signInProblem.explanation' | transloco }}</p>
      <button mat-flat-button type="button" (click)="session.retrySignIn()">{{ 'signInProblem.tryAgain' | transloco }}</button>
    </section>
  `,
  styles: `
    .problem {
      max-width: 40rem;
      margin: 48px auto;
      padding: 0 16px;
    }
    h1 {
      display: flex;
      align-items: center;
      gap: 8px;
      font: var(--mat-sys-headline-small);
    }
  `,
})
export class SignInProblemPage {
  protected readonly session = inject(Session);
}
