import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { Session } from './core/session';

/**
 * The shell. It renders no Angular Material component on purpose: the toolbar, its icons and
 * its one button are plain elements styled with the theme's system tokens, so Material's
 * modules load with the lazy pages that use them and not in the initial bundle.
 */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <header class="toolbar" role="banner">
      <span class="material-symbols-outlined" aria-hidden="true">key</span>
      <span class="brand">API keys</span>
      @if (session.user()) {
        <nav aria-label="Sections">
          <a routerLink="/settings/api-keys" routerLinkActive="active" ariaCurrentWhenActive="page">Keys</a>
          <a routerLink="/activity" routerLinkActive="active" ariaCurrentWhenActive="page">Activity</a>
        </nav>
      }
      <span class="spacer"></span>
      @if (session.user(); as user) {
        <span class="user" data-testid="signed-in-user">
          <span class="material-symbols-outlined" aria-hidden="true">account_circle</span>{{ user.username ?? user.user_id }}
        </span>
        <button class="text-button" type="button" (click)="session.signOut()">Sign out</button>
      }
    </header>
    <main id="main" tabindex="-1"><router-outlet /></main>
  `,
  styles: `
    .toolbar {
      display: flex;
      align-items: center;
      gap: 8px;
      height: 64px;
      padding: 0 16px;
      background: var(--mat-sys-surface-container);
      color: var(--mat-sys-on-surface);
    }
    .brand {
      font: var(--mat-sys-title-medium);
    }
    .spacer {
      flex: 1;
    }
    nav {
      display: flex;
      gap: 4px;
      margin-left: 16px;
    }
    nav a {
      padding: 8px 12px;
      border-radius: 20px;
      color: var(--mat-sys-on-surface-variant);
      text-decoration: none;
      font: var(--mat-sys-label-large);
    }
    nav a.active {
      background: var(--mat-sys-secondary-container);
      color: var(--mat-sys-on-secondary-container);
    }
    nav a:focus-visible {
      outline: 2px solid var(--mat-sys-primary);
    }
    .user {
      display: inline-flex;
      align-items: center;
      gap: 4px;
      font: var(--mat-sys-body-medium);
    }
    /* Looks like Material's text button (mat-button) without loading it. */
    .text-button {
      height: 40px;
      padding: 0 12px;
      border: 0;
      border-radius: 20px;
      background: transparent;
      color: var(--mat-sys-primary);
      font: var(--mat-sys-label-large);
      cursor: pointer;
    }
    .text-button:hover {
      background: color-mix(in srgb, var(--mat-sys-primary) 8%, transparent);
    }
    .text-button:focus-visible {
      outline: 2px solid var(--mat-sys-primary);
      outline-offset: 2px;
    }
    @media (max-width: 480px) {
      .user .material-symbols-outlined,
      .brand {
        display: none;
      }
      nav {
        margin-left: 0;
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
