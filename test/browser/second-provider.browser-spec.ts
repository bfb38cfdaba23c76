import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { join, resolve } from 'node:path';
import { freePort } from '../support/free-port';
import { SecondProvider } from '../support/second-provider';
import { SpawnedApp } from '../support/spawned-app';

const shots = resolve(__dirname, '../../test-results/browser');

/**
 * The console against a second, independent OpenID provider (oidc-provider, not Keycloak-shaped):
 * code + PKCE sign-in on the provider's own login page, and a provider whose tokens the service
 * refuses ending on a readable page after one round trip instead of a redirect loop.
 */
test.describe.serial('Sign-in with another OpenID provider', () => {
  const provider = new SecondProvider();
  let app: SpawnedApp;
  let strict: SpawnedApp;

  test.beforeAll(async () => {
    const [port, strictPort] = [await freePort(), await freePort()];
    await provider.start([`http://127.0.0.1:${port}/api/auth/callback`, `http://127.0.0.1:${strictPort}/api/auth/callback`]);
    const settings = { OIDC_ISSUER: provider.issuer, OIDC_CLIENT_ID: 'console', OIDC_USERNAME_CLAIM: 'https://keys.test/username' };
    app = new SpawnedApp({ ...settings, OIDC_AUDIENCE: provider.audience }, port);
    strict = new SpawnedApp({ ...settings, OIDC_AUDIENCE: 'https://another-api.example' }, strictPort);
    await Promise.all([app.start(), strict.start()]);
  });

  test.afterAll(async () => {
    await Promise.all([app?.kill('SIGTERM'), strict?.kill('SIGTERM')]);
    await provider.stop();
  });

  test('signs in with code + PKCE on the provider’s own page and lands on the keys page', async ({ page }) => {
    await page.goto(`${app.url}/settings/api-keys`);
    await expect(page).toHaveURL(new RegExp(`^${provider.issuer}/interaction/`));
    await page.locator('input[name="login"]').fill('ivan');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await expect(page).toHaveURL(`${app.url}/settings/api-keys`);
    await expect(page.getByTestId('signed-in-user')).toHaveText(/ivan \(second provider\)/);
    await expect(page.getByRole('heading', { name: 'API keys', level: 1 })).toBeVisible();
    await page.screenshot({ path: join(shots, 'second-provider-01-signed-in.png'), fullPage: true });
  });

  test('a refused token ends on a page that says why, after one round trip', async ({ page }) => {
    const logins: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/auth/login')) logins.push(request.url());
    });
    await page.goto(`${strict.url}/settings/api-keys`);
    await expect(page).toHaveURL(new RegExp(`^${provider.issuer}/interaction/`));
    await page.locator('input[name="login"]').fill('judy');
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();

    await expect(page.getByRole('heading', { name: 'Sign-in failed' })).toBeVisible();
    await expect(page.getByTestId('sign-in-failure-code')).toHaveText('invalid_audience');
    await expect(page.getByTestId('sign-in-failure-detail')).toContainText('not issued for this service');
    // It stays there: no meta refresh, no script, no second trip to the provider.
    await page.waitForTimeout(1500);
    expect(logins).toHaveLength(1);
    expect(page.url()).toContain(`${strict.url}/api/auth/callback`);
    await page.screenshot({ path: join(shots, 'second-provider-02-refused.png'), fullPage: true });
    const { violations } = await new AxeBuilder({ page }).analyze();
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);

    // "Try again" is one deliberate trip, which ends on the same page.
    await page.getByRole('link', { name: 'Try again' }).click();
    await expect(page.getByTestId('sign-in-failure-code')).toHaveText('invalid_audience');
    expect(logins).toHaveLength(2);
  });
});
