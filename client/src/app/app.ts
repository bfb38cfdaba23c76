import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { MatButton } from '@angular/material/button';
import { MatIcon } from '@angular/material/icon';
import { MatToolbar } from '@angular/material/toolbar';
import { RouterOutlet } from '@angular/router';
import { Session } from './core/session';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, MatToolbar, MatButton, MatIcon],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <mat-toolbar role="banner">
      <mat-icon aria-hidden="true">key</mat-icon>
      <span class="brand">API keys</span>
      <span class="spacer"></span>
      @if (session.user(); as user) {
        <span class="user" data-testid="signed-in-user">
          <mat-icon aria-hidden="true">account_circle</mat-icon>{{ user.username ?? user.user_id }}
        </span>
        <button mat-button type="button" (click)="session.signOut()">Sign out</button>
      }
    </mat-toolbar>
    <main id="main" tabindex="-1"><router-outlet /></main>
  `,
  styles: `
    mat-toolbar {
      gap: 8px;
      background: var(--mat-sys-surface-container);
    }
    .brand {
      font: var(--mat-sys-title-medium);
    }
    .spacer {
      flex: 1;
    }
    .user {
      display: inline-flex;
      align-items: center;
      gap: 4px;
      font: var(--mat-sys-body-medium);
    }
    @media (max-width: 480px) {
      .user mat-icon {
        display: none;
      }
    }
    .skip-link {
      position: absolute;
      left: -9999px;
    }
    .skip-link:focus {
      left: 8px;
      top: 8px;
      z-index: 10;
      background: var(--mat-sys-surface);
      padding: 8px;
    }
    main:focus {
      outline: none;
    }
  `,
})
export class App {
  protected readonly session = inject(Session);
}
