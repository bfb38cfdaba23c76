import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContextOptions, expect, type Page, test } from '@playwright/test';
import { join, resolve } from 'node:path';
import { closeDialog } from './dialogs';

const shots = resolve(__dirname, '../../test-results/browser');

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** No serious or critical accessibility violation on what is on screen now. */
async function expectAccessible(page: Page, include?: string): Promise<void> {
  const builder = new AxeBuilder({ page });
  if (include) builder.include(include);
  const { violations } = await builder.analyze();
  const severe = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

async function newPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Page> {
  const context = await browser.newContext(options);
  return context.newPage();
}

async function signIn(page: Page, username: string): Promise<void> {
  await page.goto('/settings/api-keys');
  await expect(page).toHaveURL(/\/realms\/dev\/protocol\/openid-connect\/auth/);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(username);
  await page.locator('#kc-login').click();
  await expect(page).toHaveURL(/\/settings\/api-keys$/);
  await expect(page.getByTestId('signed-in-user')).toHaveText(new RegExp(username));
}

/** A key of `username`'s, created through the API with a password-grant token (as a script would). */
async function createKeyAs(page: Page, username: string, name: string): Promise<string> {
  const token = await page.request.post('/realms/dev/protocol/openid-connect/token', {
    form: { grant_type: 'password', client_id: 'cli', username, password: username },
  });
  expect(token.status()).toBe(200);
  const { access_token } = (await token.json()) as { access_token: string };
  const created = await page.request.post('/api/keys', { headers: { Authorization: `Bearer ${access_token}` }, data: { name } });
  expect(created.status()).toBe(201);
  return ((await created.json()) as { key: string }).key;
}

test.describe.serial('Admin console', () => {
  let admin: Page;
  let bobsKey = '';

  test.beforeAll(async ({ browser }) => {
    admin = await newPage(browser, { locale: 'en-GB' });
  });

  test.afterAll(async () => {
    await admin.context().close();
  });

  test("an admin sees the Admin menu and bob's key among everyone's", async () => {
    bobsKey = await createKeyAs(admin, 'bob', 'Bob nightly export');
    expect((await admin.request.get('/api/keys/current', { headers: { Authorization: `Bearer ${bobsKey}` } })).status()).toBe(200);

    await signIn(admin, 'admin');
    const adminNav = admin.getByTestId('admin-nav');
    await expect(adminNav.getByRole('link')).toHaveCount(4);
    for (const name of ['Overview', 'Keys', 'Audit log', 'Policy'])
      await expect(adminNav.getByRole('link', { name, exact: true })).toBeVisible();

    await adminNav.getByRole('link', { name: 'Overview' }).click();
    await expect(admin.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
    await expect(admin.getByTestId('count-active')).not.toHaveText('0');
    await expect(admin.locator('app-bar-chart canvas')).toHaveCount(2);
    await screenshot(admin, 'admin-01-overview');
    await expectAccessible(admin);

    await adminNav.getByRole('link', { name: 'Keys' }).click();
    await expect(admin.getByRole('heading', { name: 'Keys', level: 1 })).toBeVisible();
    await admin.getByTestId('filter-user').fill('bob');
    const row = admin.getByRole('row', { name: /Bob nightly export/ });
    await expect(row).toBeVisible();
    await expect(row).toContainText('bob');
    await expect(admin.getByTestId('key-count')).toHaveText(/^\d+ key\(s\)$/);
    await screenshot(admin, 'admin-02-keys');
    await expectAccessible(admin);

    // The side sheet: the key's events from the whole audit log.
    await row.getByRole('button', { name: 'Usage and events of API key Bob nightly export' }).click();
    const sheet = admin.getByRole('dialog', { name: 'Usage and events of Bob nightly export' });
    await expect(sheet.getByTestId('key-events')).toContainText('API key created “Bob nightly export”');
    await expect(sheet).toContainText('Owner: bob');
    // Its usage chart too, through the admin usage route (the owner is bob, not the admin).
    await expect(sheet.locator('app-usage-chart')).toBeVisible();
    await expectAccessible(admin, '.cdk-overlay-container');
    await sheet.getByRole('button', { name: 'Close' }).click();
    await expect(sheet).toBeHidden();
  });

  test("revokes bob's key with a reason; the key stops working at once", async () => {
    const row = admin.getByRole('row', { name: /Bob nightly export/ });
    await row.getByRole('checkbox').check();
    await admin.getByTestId('bulk-revoke').click();
    const dialog = admin.getByRole('dialog', { name: 'Revoke 1 key(s)' });
    await expect(dialog.getByTestId('revoke-keys')).toContainText('Bob nightly export · bob');
    const submit = dialog.getByRole('button', { name: 'Revoke' });
    await expect(submit).toBeDisabled();
    await dialog.getByLabel('Reason').fill('Laptop stolen');
    await screenshot(admin, 'admin-03-revoke-dialog');
    await expectAccessible(admin, '.cdk-overlay-container');
    await submit.click();
    await expect(admin.getByText('1 key(s) revoked')).toBeVisible();
    await expect(admin.getByRole('row', { name: /Bob nightly export/ })).toHaveCount(0);

    const refused = await admin.request.get('/api/keys/current', { headers: { Authorization: `Bearer ${bobsKey}` } });
    expect(refused.status()).toBe(401);
    expect(((await refused.json()) as { code: string }).code).toBe('revoked_key');
  });

  test('the audit log shows the revocation with its reason, and offers it as CSV', async () => {
    await admin.getByTestId('admin-nav').getByRole('link', { name: 'Audit log' }).click();
    await expect(admin.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
    await admin.getByTestId('audit-user').fill('bob');
    await admin.getByRole('combobox', { name: 'Event' }).click();
    await admin.getByRole('option', { name: 'API key deleted' }).click();
    const what = admin.getByTestId('audit-what');
    await expect(what).toHaveCount(1);
    await expect(what.first()).toContainText('API key deleted “Bob nightly export” by an administrator: Laptop stolen');
    await screenshot(admin, 'admin-04-audit');
    await expectAccessible(admin);

    const href = await admin.getByTestId('audit-csv').getAttribute('href');
    expect(href).toMatch(/^\/api\/admin\/audit-events\.csv\?/);
    expect(href).toContain('type=api_key.revoked');
    const csv = await admin.request.get(href!);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    expect(await csv.text()).toContain('Laptop stolen');
  });

  test('changing the maximum lifetime in the policy changes what the create dialog offers', async () => {
    await admin.getByTestId('admin-nav').getByRole('link', { name: 'Policy' }).click();
    await expect(admin.getByRole('heading', { name: 'Policy', level: 1 })).toBeVisible();
    const lifetime = admin.getByLabel('Maximum lifetime');
    await expect(lifetime).toHaveValue('365');
    // Validation: out of range is refused before anything is sent.
    await lifetime.fill('0');
    await lifetime.blur();
    await expect(admin.getByText('A whole number from 1 to 36,500.')).toBeVisible();
    await lifetime.fill('60');
    await admin.getByRole('button', { name: 'Save' }).click();
    const confirm = admin.getByRole('dialog', { name: 'Change the key policy?' });
    const changes = confirm.getByTestId('policy-changes');
    await expect(changes).toContainText('Maximum lifetime');
    await expect(changes).toContainText('365 days');
    await expect(changes).toContainText('60 days');
    await expect(changes).toContainText('Existing keys keep their expiry, even beyond 60 days.');
    await screenshot(admin, 'admin-05-policy-confirm');
    await expectAccessible(admin, '.cdk-overlay-container');
    await confirm.getByRole('button', { name: 'Save policy' }).click();
    await expect(admin.getByText('Policy saved. New keys follow it from now on.')).toBeVisible();
    await expect(admin.getByTestId('policy-source')).toContainText('Last changed');

    await admin.getByRole('link', { name: 'API keys' }).click();
    await admin.getByRole('button', { name: 'Create API key' }).first().click();
    const create = admin.getByRole('dialog', { name: 'Create API key' });
    await expect(create.getByTestId('policy-hint')).toHaveText('Your organisation allows keys for at most 60 days.');
    await create.getByRole('combobox', { name: 'Expiration' }).click();
    await expect(admin.getByRole('option')).toHaveText(['30 days', '60 days (the maximum)', 'On a date…', 'No expiration']);
    await admin.getByRole('option', { name: '60 days (the maximum)' }).click();
    await create.getByLabel('Name').fill('Admin short-lived');
    await create.getByRole('button', { name: 'Create' }).click();
    const created = admin.getByRole('dialog', { name: 'API key created' });
    await closeDialog(created, 'Close');
    await expect(admin.getByRole('row', { name: /Admin short-lived/ })).toContainText(/expires in (59|60) days/);
  });

  test('the policy goes back to a year (the other suites expect the defaults)', async () => {
    await admin.goto('/admin/policy');
    await admin.getByLabel('Maximum lifetime').fill('365');
    await admin.getByRole('button', { name: 'Save' }).click();
    await admin.getByRole('dialog', { name: 'Change the key policy?' }).getByRole('button', { name: 'Save policy' }).click();
    await expect(admin.getByText('Policy saved.')).toBeVisible();
    const policy = await admin.request.get('/api/policy');
    expect(((await policy.json()) as { max_lifetime_days: number }).max_lifetime_days).toBe(365);
  });

  test('a plain user sees no Admin menu, cannot open the pages, and the admin API answers 403', async ({ browser }) => {
    const bob = await newPage(browser, { locale: 'en-GB' });
    await signIn(bob, 'bob');
    await expect(bob.getByRole('navigation', { name: 'Sections' })).toBeVisible();
    await expect(bob.getByTestId('admin-nav')).toHaveCount(0);
    await expect(bob.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
    await bob.goto('/admin/keys');
    await expect(bob).toHaveURL(/\/settings\/api-keys$/);
    for (const path of ['/api/admin/keys', '/api/admin/overview', '/api/admin/policy', '/api/admin/audit-events']) {
      const response = await bob.request.get(path);
      expect(response.status(), path).toBe(403);
      expect(['admin_role_required', 'insufficient_scope']).toContain(((await response.json()) as { code: string }).code);
    }
    await bob.context().close();
  });

  test('the navigation is a menu at 375 px, in the dark theme', async ({ browser }) => {
    const phone = await newPage(browser, { locale: 'en-GB', viewport: { width: 375, height: 740 }, colorScheme: 'dark' });
    await createKeyAs(phone, 'admin', 'Admin phone key');
    await signIn(phone, 'admin');
    const nav = phone.getByRole('navigation', { name: 'Sections' });
    await expect(nav).toBeHidden();
    const toggle = phone.getByRole('button', { name: 'Open navigation' });
    await toggle.click();
    await expect(nav).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Policy' })).toBeVisible();
    await screenshot(phone, 'admin-06-phone-menu');
    await expectAccessible(phone);
    await nav.getByRole('link', { name: 'Keys', exact: true }).click();
    await expect(nav).toBeHidden();
    await expect(phone.getByRole('heading', { name: 'Keys', level: 1 })).toBeVisible();
    await expect(phone.getByRole('button', { name: 'Revoke Admin phone key of admin' })).toBeInViewport();
    const background = await phone.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).not.toBe('rgb(255, 255, 255)');
    await screenshot(phone, 'admin-07-phone-keys');
    await expectAccessible(phone);
    // The other admin pages fit the width too (tables scroll inside their own box).
    for (const [path, heading] of [
      ['/admin/overview', 'Overview'],
      ['/admin/audit', 'Audit log'],
      ['/admin/policy', 'Policy'],
    ]) {
      await phone.goto(path);
      await expect(phone.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
      await expect(phone.locator('mat-progress-bar')).toHaveCount(0);
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
      await screenshot(phone, `admin-08-phone-${heading.toLowerCase().replace(' ', '-')}`);
      await expectAccessible(phone);
    }
    await phone.context().close();
  });
});

test.describe('简体中文', () => {
  test('the keys page and the admin keys page in Chinese, chosen from the browser, then switched and remembered', async ({ browser }) => {
    const page = await newPage(browser, { locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    await signIn(page, 'admin');
    await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
    await expect(page.getByRole('heading', { name: 'API密钥', level: 1 })).toBeVisible();
    await expect(page.getByRole('button', { name: '创建API密钥' }).first()).toBeVisible();
    await expect(page).toHaveTitle('API密钥');
    await screenshot(page, 'zh-01-api-keys');
    await expectAccessible(page);

    await page.getByRole('button', { name: '创建API密钥' }).first().click();
    const create = page.getByRole('dialog', { name: '创建API密钥' });
    await expect(create.getByRole('combobox', { name: '过期时间' })).toBeVisible();
    await screenshot(page, 'zh-02-create-dialog');
    await expectAccessible(page, '.cdk-overlay-container');
    await create.getByRole('button', { name: '取消' }).click();

    await page.getByTestId('admin-nav').getByRole('link', { name: '密钥' }).click();
    await expect(page.getByRole('heading', { name: '密钥', level: 1 })).toBeVisible();
    await expect(page.getByRole('columnheader', { name: '所有者' })).toBeVisible();
    await expect(page.getByTestId('key-count')).toContainText('个密钥');
    await expect(page.getByText('每页条数：')).toBeVisible();
    await screenshot(page, 'zh-03-admin-keys');
    await expectAccessible(page);

    await page.getByTestId('admin-nav').getByRole('link', { name: '概览' }).click();
    await expect(page.getByRole('heading', { name: '概览', level: 1 })).toBeVisible();
    await screenshot(page, 'zh-04-admin-overview');
    await expectAccessible(page);

    // Switched to English in the toolbar, without a reload; remembered on the next visit.
    await page.getByTestId('language-menu').selectOption('en');
    await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await page.reload();
    await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
    await expectAccessible(page);
    await page.getByTestId('language-menu').selectOption('zh-CN');
    await expect(page.getByRole('heading', { name: '概览', level: 1 })).toBeVisible();
    await page.context().close();
  });

  test('problems from the API show in Chinese by their code', async ({ browser }) => {
    const page = await newPage(browser, { locale: 'zh-CN' });
    // chen, a user of this test alone: the console suite counts alice's sign-ins and expects bob to have no keys.
    await signIn(page, 'chen');
    await page.getByRole('button', { name: '创建API密钥' }).first().click();
    let create = page.getByRole('dialog', { name: '创建API密钥' });
    await create.getByLabel('名称').fill('重复的名称');
    await create.getByRole('button', { name: '创建' }).click();
    await closeDialog(page.getByRole('dialog', { name: 'API密钥已创建' }), '关闭');
    await page.getByRole('button', { name: '创建API密钥' }).first().click();
    create = page.getByRole('dialog', { name: '创建API密钥' });
    await create.getByLabel('名称').fill('重复的名称');
    await create.getByRole('button', { name: '创建' }).click();
    await expect(create.getByText('您已有一个同名的有效API密钥。')).toBeVisible();
    await screenshot(page, 'zh-05-duplicate-name');
    await create.getByRole('button', { name: '取消' }).click();
    await page.getByRole('button', { name: '删除API密钥 重复的名称' }).click();
    await page.getByRole('dialog', { name: '删除API密钥' }).getByRole('button', { name: '删除' }).click();
    await expect(page.getByText('API密钥“重复的名称”已删除')).toBeVisible();
    await page.context().close();
  });
});
