import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { App } from './app';
import { Session } from './core/session';
import { I18n, LANGUAGE_STORAGE_KEY } from './i18n/i18n';
import { provideI18nTesting } from './i18n/testing';

describe('App shell', () => {
  beforeEach(() => {
    localStorage.clear();
    TestBed.configureTestingModule({
      imports: [App],
      providers: [
        provideZonelessChangeDetection(),
        provideI18nTesting(),
        provideRouter([]),
        provideHttpClient(),
        provideHttpClientTesting(),
      ],
    });
  });
  afterEach(() => TestBed.inject(HttpTestingController).verify());

  async function render(scopes: string[]) {
    TestBed.inject(Session).user.set({ user_id: 'u1', username: 'someone', auth_type: 'cookie', scopes } as never);
    const fixture = TestBed.createComponent(App);
    await fixture.whenStable();
    rendered = fixture;
    return fixture.nativeElement as HTMLElement;
  }
  let rendered: { whenStable(): Promise<unknown> };

  const links = (element: HTMLElement) => [...element.querySelectorAll('nav a')].map((a) => a.getAttribute('href'));

  it('offers Settings to everyone and Admin only to admins', async () => {
    const plain = await render(['keys:read', 'keys:write']);
    expect(links(plain)).toEqual(['/settings/api-keys', '/activity', '/settings/webhooks']);
    expect(plain.querySelector('[data-testid="admin-nav"]')).toBeNull();
  });

  it('lists the admin pages for a session holding admin:read', async () => {
    const admin = await render(['keys:read', 'admin:read']);
    expect(links(admin)).toEqual([
      '/settings/api-keys',
      '/activity',
      '/settings/webhooks',
      '/admin/overview',
      '/admin/keys',
      '/admin/audit',
      '/admin/policy',
    ]);
  });

  it('opens and closes the narrow menu with its button, saying so', async () => {
    const element = await render([]);
    const toggle = element.querySelector<HTMLButtonElement>('.nav-toggle')!;
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
    expect(toggle.getAttribute('aria-label')).toBe('Open navigation');
    toggle.click();
    await new Promise((resolve) => setTimeout(resolve));
    expect(toggle.getAttribute('aria-expanded')).toBe('true');
    expect(toggle.getAttribute('aria-label')).toBe('Close navigation');
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape' }));
    await new Promise((resolve) => setTimeout(resolve));
    expect(toggle.getAttribute('aria-expanded')).toBe('false');
  });

  it('switches language from the toolbar menu without a reload and remembers the choice', async () => {
    const element = await render([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await rendered.whenStable();
    const select = element.querySelector<HTMLSelectElement>('[data-testid="language-menu"]')!;
    expect([...select.options].map((o) => o.textContent?.trim())).toEqual(['English', '简体中文']);
    select.value = 'zh-CN';
    select.dispatchEvent(new Event('change'));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await rendered.whenStable();
    expect(TestBed.inject(I18n).lang()).toBe('zh-CN');
    expect(localStorage.getItem(LANGUAGE_STORAGE_KEY)).toBe('zh-CN');
    expect(document.documentElement.lang).toBe('zh-CN');
    expect(element.querySelector('nav')?.textContent).toContain('API密钥');
    expect(element.textContent).toContain('退出登录');
  });
});
