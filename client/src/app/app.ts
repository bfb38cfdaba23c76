import { ChangeDetectionStrategy, Component, DestroyRef, ElementRef, inject, signal, viewChild } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { TranslocoPipe } from '@jsverse/transloco';
import { filter } from 'rxjs';
import { Session } from './core/session';
import { I18n, Language, LANGUAGES } from './i18n/i18n';

interface NavLink {
  path: string;
  label: string;
  icon: string;
}

const SETTINGS_LINKS: NavLink[] = [
  { path: '/settings/api-keys', label: 'nav.apiKeys', icon: 'key' },
  { path: '/activity', label: 'nav.activity', icon: 'history' },
  { path: '/settings/webhooks', label: 'nav.webhooks', icon: 'webhook' },
];

const ADMIN_LINKS: NavLink[] = [
  { path: '/admin/overview', label: 'nav.overview', icon: 'monitoring' },
  { path: '/admin/keys', label: 'nav.keys', icon: 'vpn_key' },
  { path: '/admin/audit', label: 'nav.audit', icon: 'receipt_long' },
  { path: '/admin/policy', label: 'nav.policy', icon: 'policy' },
];

/**
 * The shell: toolbar (language, user, sign out) and navigation — a side nav on wide screens, a
 * menu behind a button on narrow ones. It renders no Angular Material component on purpose: its
 * elements are plain, styled with the theme's system tokens, so Material's modules load with the
 * lazy pages that use them and not in the initial bundle.
 */
@Component({
  selector: 'app-root',
  imports: [RouterOutlet, RouterLink, RouterLinkActive, TranslocoPipe],
  changeDetection: ChangeDetectionStrategy.OnPush,
  host: { '(document:keydown.escape)': 'closeNav(true)' },
  template: `
    <a class="skip-link" href="#main">{{ 'app.skipToContent' | transloco }}</a>
    <header class="toolbar" role="banner">
      @if (session.user()) {
        <button
          #navButton
          class="icon-button nav-toggle"
          type="button"
          aria-controls="app-nav"
          [attr.aria-expanded]="navOpen()"
          [attr.aria-label]="(navOpen() ? 'app.closeNavigation' : 'app.openNavigation') | transloco"
          (click)="toggleNav()"
        >
          <span class="material-symbols-outlined" aria-hidden="true">{{ navOpen() ? 'close' : 'menu' }}</span>
        </button>
      }
      <span class="material-symbols-outlined logo" aria-hidden="true">key</span>
      <span class="brand">{{ 'app.name' | transloco }}</span>
      <span class="spacer"></span>
      <label class="language">
        <span class="material-symbols-outlined" aria-hidden="true">translate</span>
        <span class="visually-hidden">{{ 'app.language' | transloco }}</span>
        <select data-testid="language-menu" (change)="choose($event)">
          @for (lang of languages; track lang) {
            <option [value]="lang" [attr.lang]="lang" [selected]="lang === i18n.lang()">{{ 'languages.' + lang | transloco }}</option>
          }
        </select>
      </label>
      @if (session.user(); as user) {
        <span class="user" data-testid="signed-in-user">
          <span class="material-symbols-outlined" aria-hidden="true">account_circle</span>{{ user.username ?? user.user_id }}
        </span>
        <button class="text-button" type="button" (click)="session.signOut()">{{ 'app.signOut' | transloco }}</button>
      }
    </header>
    <div class="layout" [class.with-nav]="!!session.user()">
      @if (session.user()) {
        <nav id="app-nav" [class.open]="navOpen()" [attr.aria-label]="'nav.label' | transloco">
          <p class="group" id="nav-settings">{{ 'nav.settings' | transloco }}</p>
          <ul aria-labelledby="nav-settings">
            @for (link of settingsLinks; track link.path) {
              <li>
                <a [routerLink]="link.path" routerLinkActive="active" ariaCurrentWhenActive="page">
                  <span class="material-symbols-outlined" aria-hidden="true">{{ link.icon }}</span>{{ link.label | transloco }}
                </a>
              </li>
            }
          </ul>
          @if (session.isAdmin()) {
            <p class="group" id="nav-admin">{{ 'nav.admin' | transloco }}</p>
            <ul aria-labelledby="nav-admin" data-testid="admin-nav">
              @for (link of adminLinks; track link.path) {
                <li>
                  <a [routerLink]="link.path" routerLinkActive="active" ariaCurrentWhenActive="page">
                    <span class="material-symbols-outlined" aria-hidden="true">{{ link.icon }}</span>{{ link.label | transloco }}
                  </a>
                </li>
              }
            </ul>
          }
        </nav>
        @if (navOpen()) {
          <div class="scrim" aria-hidden="true" (click)="closeNav(false)"></div>
        }
      }
      <main id="main" tabindex="-1"><router-outlet /></main>
    </div>
  `,
  styles: `
    :host {
      display: flex;
      flex-direction: column;
      min-height: 100%;
    }
    .toolbar {
      display: flex;
      align-items: center;
      gap: 8px;
      height: 64px;
      padding: 0 16px;
      background: var(--mat-sys-surface-container);
      color: var(--mat-sys-on-surface);
      position: relative;
      z-index: 3;
    }
    .brand {
      font: var(--mat-sys-title-medium);
    }
    .spacer {
      flex: 1;
    }
    .layout {
      flex: 1;
      display: flex;
      position: relative;
    }
    main {
      flex: 1;
      min-width: 0;
    }
    nav {
      width: 232px;
      flex: none;
      padding: 8px 12px;
      box-sizing: border-box;
      background: var(--mat-sys-surface-container-low);
      border-right: 1px solid var(--mat-sys-outline-variant);
    }
    nav ul {
      list-style: none;
      margin: 0 0 8px;
      padding: 0;
    }
    .group {
      margin: 16px 12px 8px;
      font: var(--mat-sys-title-small);
      color: var(--mat-sys-on-surface-variant);
    }
    nav a {
      display: flex;
      align-items: center;
      gap: 12px;
      height: 48px;
      padding: 0 16px;
      border-radius: 24px;
      color: var(--mat-sys-on-surface-variant);
      text-decoration: none;
      font: var(--mat-sys-label-large);
    }
    nav a:hover {
      background: color-mix(in srgb, var(--mat-sys-on-surface) 8%, transparent);
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
    .language {
      display: inline-flex;
      align-items: center;
      gap: 4px;
    }
    .language select {
      height: 36px;
      padding: 0 8px;
      border: 1px solid var(--mat-sys-outline);
      border-radius: 8px;
      background: var(--mat-sys-surface-container);
      color: var(--mat-sys-on-surface);
      font: var(--mat-sys-label-large);
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
    .text-button:hover,
    .icon-button:hover {
      background: color-mix(in srgb, var(--mat-sys-primary) 8%, transparent);
    }
    .text-button:focus-visible,
    .icon-button:focus-visible {
      outline: 2px solid var(--mat-sys-primary);
      outline-offset: 2px;
    }
    .icon-button {
      display: none;
      width: 48px;
      height: 48px;
      margin-left: -8px;
      border: 0;
      border-radius: 24px;
      background: transparent;
      color: var(--mat-sys-on-surface);
      cursor: pointer;
    }
    /* Narrow screens: the navigation is a menu behind the toolbar's button, over the page. */
    @media (max-width: 840px) {
      .icon-button {
        display: inline-grid;
        place-items: center;
      }
      nav {
        display: none;
        position: absolute;
        inset: 0 auto 0 0;
        width: min(300px, 85vw);
        z-index: 2;
        border-right: 0;
        box-shadow: var(--mat-sys-level3);
      }
      nav.open {
        display: block;
      }
      .scrim {
        position: absolute;
        inset: 0;
        z-index: 1;
        background: color-mix(in srgb, var(--mat-sys-scrim) 32%, transparent);
      }
    }
    @media (max-width: 480px) {
      .toolbar {
        gap: 4px;
        padding: 0 8px 0 16px;
      }
      .user .material-symbols-outlined,
      .brand,
      .logo {
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
  protected readonly i18n = inject(I18n);
  protected readonly languages = LANGUAGES;
  protected readonly settingsLinks = SETTINGS_LINKS;
  protected readonly adminLinks = ADMIN_LINKS;
  protected readonly navOpen = signal(false);
  private readonly navButton = viewChild<ElementRef<HTMLButtonElement>>('navButton');
  private readonly host = inject<ElementRef<HTMLElement>>(ElementRef);

  constructor() {
    // Following a link in the narrow menu closes it.
    inject(Router)
      .events.pipe(
        filter((event) => event instanceof NavigationEnd),
        takeUntilDestroyed(inject(DestroyRef)),
      )
      .subscribe(() => this.navOpen.set(false));
  }

  protected toggleNav(): void {
    const open = !this.navOpen();
    this.navOpen.set(open);
    // Opened: the first link takes focus, so keyboard users land in the menu.
    if (open) setTimeout(() => this.host.nativeElement.querySelector<HTMLElement>('#app-nav a')?.focus());
  }

  protected closeNav(returnFocus: boolean): void {
    if (!this.navOpen()) return;
    this.navOpen.set(false);
    if (returnFocus) this.navButton()?.nativeElement.focus();
  }

  protected choose(event: Event): void {
    void this.i18n.choose((event.target as HTMLSelectElement).value as Language);
  }
}
