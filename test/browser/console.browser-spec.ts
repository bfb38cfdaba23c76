import AxeBuilder from '@axe-core/playwright';
import { type Browser, expect, type Page, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
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

async function signIn(page: Page, username: string): Promise<void> {
  await page.goto('/settings/api-keys');
  // Sent to the identity provider's form, as with Keycloak (same field ids).
  await expect(page).toHaveURL(/\/realms\/dev\/protocol\/openid-connect\/auth/);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(username);
  await page.locator('#kc-login').click();
  await expect(page).toHaveURL(/\/settings\/api-keys$/);
  await expect(page.getByTestId('signed-in-user')).toHaveText(new RegExp(username));
}

async function newPage(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<Page> {
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'], ...options });
  return context.newPage();
}

test.describe.serial('Settings → API keys', () => {
  let page: Page;
  let copiedKey = '';

  test.beforeAll(async ({ browser }) => {
    page = await newPage(browser);
  });

  test('signs in through the identity provider and shows the empty state', async () => {
    await signIn(page, 'alice');
    await expect(page.getByRole('heading', { name: 'API keys', level: 1 })).toBeVisible();
    await expect(page.getByText("You don't have any API keys yet. Create one to get started.")).toBeVisible();
    await screenshot(page, '01-empty-state');
    await expectAccessible(page);
  });

  test('shows, copies and refreshes the LLM key; a gateway can verify it', async () => {
    const card = page.locator('app-llm-key-card');
    const shownKey = card.getByTestId('llm-key');
    await expect(shownKey).toContainText('••••');
    await card.getByRole('button', { name: 'Show LLM key' }).click();
    await expect(shownKey).toHaveText(/^sk-oh-llm-[0-9A-Za-z]{36}$/);
    const llmKey = (await shownKey.textContent())!.trim();
    await card.getByRole('button', { name: 'Copy LLM key' }).click();
    await expect(card.getByRole('button', { name: 'LLM key copied' })).toBeVisible();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(llmKey);
    await screenshot(page, '01b-llm-key-card');

    const { verifyServiceToken } = JSON.parse(readFileSync(join(process.env.BROWSER_TEST_DATA_DIR!, 'secrets.json'), 'utf8')) as {
      verifyServiceToken: string;
    };
    const verify = async (key: string) =>
      (await page.request.post('/api/keys/verify', { headers: { Authorization: `Bearer ${verifyServiceToken}` }, data: { key } })).json();
    expect(await verify(llmKey)).toMatchObject({ valid: true, code: 'VALID', kind: 'llm_key' });

    await card.getByRole('button', { name: 'Refresh key' }).click();
    const confirm = page.getByRole('dialog', { name: 'Refresh LLM key' });
    await expect(confirm).toContainText('The old key stops working immediately');
    await expectAccessible(page, '.cdk-overlay-container');
    await confirm.getByRole('button', { name: 'Refresh key' }).click();
    await expect(page.getByText('LLM key refreshed. The old key no longer works.')).toBeVisible();
    await expect(shownKey).not.toHaveText(llmKey);
    const refreshed = (await shownKey.textContent())!.trim();
    expect(refreshed).toMatch(/^sk-oh-llm-/);
    expect(await verify(llmKey)).toMatchObject({ valid: false, code: 'NOT_FOUND' });
    expect(await verify(refreshed)).toMatchObject({ valid: true });
    await card.getByRole('button', { name: 'Hide LLM key' }).click();
    await expect(shownKey).toContainText('••••');
  });

  test('creates a key and copies it from the one-time dialog', async () => {
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await expect(dialog).toBeVisible();
    const create = dialog.getByRole('button', { name: 'Create' });
    await expect(create).toBeDisabled();
    await dialog.getByLabel('Name').fill('   ');
    await expect(create).toBeDisabled();
    // The date picker works inside the dialog (its date adapter is provided on the lazy route).
    await dialog.getByRole('combobox', { name: 'Expiration' }).click();
    await page.getByRole('option', { name: 'On a date…' }).click();
    await dialog.getByRole('button', { name: 'Open calendar' }).click();
    await expect(page.locator('mat-calendar')).toBeVisible();
    await page.locator('mat-calendar button.mat-calendar-body-cell:not(.mat-calendar-body-disabled)').first().click();
    await expect(page.locator('mat-calendar')).toBeHidden();
    await expect(dialog.getByLabel('Expires on')).not.toHaveValue('');
    await dialog.getByRole('combobox', { name: 'Expiration' }).click();
    await page.getByRole('option', { name: '90 days' }).click();
    await dialog.getByLabel('Name').fill('Deploy script');
    await expect(create).toBeEnabled();
    await screenshot(page, '02-create-dialog');
    await expectAccessible(page, '.cdk-overlay-container');
    await create.click();

    const created = page.getByRole('dialog', { name: 'API key created' });
    await expect(created).toBeVisible();
    await expect(created).toContainText('This is the only time your API key will be displayed');
    const shown = (await created.getByTestId('new-api-key').textContent())!.trim();
    expect(shown).toMatch(/^sk-oh-[0-9A-Za-z]{36}$/);
    await created.getByRole('button', { name: 'Copy' }).click();
    await expect(created.getByRole('button', { name: 'Copied' })).toBeVisible();
    copiedKey = await page.evaluate(() => navigator.clipboard.readText());
    expect(copiedKey).toBe(shown);
    await screenshot(page, '03-key-created');
    await expectAccessible(page, '.cdk-overlay-container');

    // Neither Escape nor a click on the backdrop can lose the key.
    await page.keyboard.press('Escape');
    await page.locator('.cdk-overlay-backdrop').click({ position: { x: 5, y: 5 }, force: true });
    await expect(created).toBeVisible();
    await created.getByRole('button', { name: 'Close' }).click();
    await expect(created).toBeHidden();
    // Focus goes back to where the person was.
    await expect(page.getByRole('button', { name: 'Create API key' })).toBeFocused();
  });

  test('lists the key as never used, then as used once the copied key calls the API', async () => {
    const row = page.getByRole('row', { name: /Deploy script/ });
    await expect(row).toContainText('Never');
    await expect(row).toContainText(`sk-oh-…${copiedKey.slice(-4)}`);
    await screenshot(page, '04-table-never-used');

    const response = await page.request.get('/api/keys/current', { headers: { Authorization: `Bearer ${copiedKey}` } });
    expect(response.status()).toBe(200);
    expect(await response.json()).toMatchObject({ name: 'Deploy script', auth_type: 'api_key' });

    await page.reload();
    const used = page.getByRole('row', { name: /Deploy script/ });
    await expect(used).not.toContainText('Never');
    await expect(used.locator('time').first()).toBeVisible();
    await expect(used).toContainText(/now|second|minute/);
    await screenshot(page, '05-table-used');
    await expectAccessible(page);
  });

  test("shows a key's usage chart and recent events in its side sheet", async () => {
    // Usage is written with the last-used batch (every second here); the sheet also adds this instance's pending counts.
    await page.getByRole('button', { name: 'Usage and events of API key Deploy script' }).click();
    const sheet = page.getByRole('dialog', { name: 'Usage and events of Deploy script' });
    await expect(sheet).toBeVisible();
    await expect(sheet.locator('canvas')).toBeVisible();
    await expect(sheet.getByTestId('usage-summary')).toHaveText(/^1 request\(s\) and 0 refusal\(s\) in the last 7 days\.$/);
    await expect(sheet.getByTestId('key-events')).toContainText('API key created “Deploy script”');
    await screenshot(page, '05b-key-usage-sheet');
    await sheet.getByRole('radio', { name: '30 days' }).click();
    await expect(sheet.getByTestId('usage-summary')).toContainText('in the last 30 days');
    await expectAccessible(page, '.cdk-overlay-container');
    await sheet.getByRole('button', { name: 'Close' }).click();
    await expect(sheet).toBeHidden();
  });

  test('lists what happened on the Activity page, filterable by event', async () => {
    await page.getByRole('link', { name: 'Activity' }).click();
    await expect(page).toHaveURL(/\/activity$/);
    await expect(page.getByRole('heading', { name: 'Activity', level: 1 })).toBeVisible();
    const what = page.getByTestId('event-what');
    await expect(what.first()).toBeVisible();
    await expect(what).toContainText(['API key created “Deploy script” with keys:read, keys:write, llm:read, llm:write, mcp']);
    await expect(page.getByRole('row', { name: /Signed in/ })).toHaveCount(1);
    await screenshot(page, '05c-activity');
    await expectAccessible(page);
    await page.getByRole('combobox', { name: 'Event' }).click();
    await page.getByRole('option', { name: 'Signed in' }).click();
    await expect(what).toHaveText(['Signed in']);
    await page.getByRole('link', { name: 'Keys' }).click();
    await expect(page.getByRole('heading', { name: 'API keys', level: 1 })).toBeVisible();
  });

  test('refuses a duplicate name inside the dialog, which stays open', async () => {
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.getByLabel('Name').fill('Deploy script');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await expect(dialog.getByText(/already have an active API key named "Deploy script"/)).toBeVisible();
    await screenshot(page, '06-duplicate-name');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();
  });

  test('deletes the key after a confirmation naming it; the key stops working', async () => {
    await page.getByRole('button', { name: 'Delete API key Deploy script' }).click();
    const confirm = page.getByRole('dialog', { name: 'Delete API key' });
    await expect(confirm).toContainText('Are you sure you want to delete the API key "Deploy script"? This action cannot be undone.');
    await screenshot(page, '07-delete-confirmation');
    await expectAccessible(page, '.cdk-overlay-container');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(page.getByText('API key "Deploy script" deleted')).toBeVisible();
    await expect(page.getByRole('row', { name: /Deploy script/ })).toHaveCount(0);
    await expect(page.getByText("You don't have any API keys yet.")).toBeVisible();

    const response = await page.request.get('/api/keys/current', { headers: { Authorization: `Bearer ${copiedKey}` } });
    expect(response.status()).toBe(401);
  });

  test('rotates a key with a grace period: the new key shown once, the old row marked as replaced', async () => {
    await page.getByRole('button', { name: 'Create API key' }).first().click();
    const create = page.getByRole('dialog', { name: 'Create API key' });
    await create.getByLabel('Name').fill('Nightly job');
    await create.getByRole('button', { name: 'Create' }).click();
    const created = page.getByRole('dialog', { name: 'API key created' });
    const first = (await created.getByTestId('new-api-key').textContent())!.trim();
    await created.getByRole('button', { name: 'Close' }).click();
    await expect(created).toBeHidden();

    await page.getByRole('button', { name: 'Rotate API key Nightly job' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate “Nightly job”' });
    await rotate.getByRole('radio', { name: '24 hours' }).check();
    await screenshot(page, '08b-rotate-dialog');
    await expectAccessible(page, '.cdk-overlay-container');
    await rotate.getByRole('button', { name: 'Rotate key' }).click();
    const shown = page.getByRole('dialog', { name: 'API key created' });
    const second = (await shown.getByTestId('new-api-key').textContent())!.trim();
    expect(second).toMatch(/^sk-oh-/);
    expect(second).not.toBe(first);
    await shown.getByRole('button', { name: 'Close' }).click();
    await expect(shown).toBeHidden();

    const rows = page.getByRole('row', { name: /Nightly job/ });
    await expect(rows).toHaveCount(2);
    await expect(rows.filter({ hasText: 'Replaced · stops working in 24 hours' })).toHaveCount(1);
    await screenshot(page, '08c-rotated');
    // The old key still works for now, and says it is deprecated.
    const old = await page.request.get('/api/keys/current', { headers: { Authorization: `Bearer ${first}` } });
    expect(old.status()).toBe(200);
    expect(old.headers()['deprecation']).toMatch(/^@\d+$/);
  });

  test("bob, signed in, does not see alice's keys", async ({ browser }) => {
    // Alice keeps one key.
    await page.getByRole('button', { name: 'Create API key' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create API key' });
    await dialog.getByLabel('Name').fill('Alice private key');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await closeDialog(page.getByRole('dialog', { name: 'API key created' }), 'Close');
    await expect(page.getByRole('row', { name: /Alice private key/ })).toBeVisible();

    const bob = await newPage(browser);
    await signIn(bob, 'bob');
    await expect(bob.getByText("You don't have any API keys yet.")).toBeVisible();
    await expect(bob.getByText('Alice private key')).toHaveCount(0);
    await bob.context().close();
  });

  test('works at 375 px wide and in the dark theme', async ({ browser }) => {
    const phone = await newPage(browser, { viewport: { width: 375, height: 740 }, colorScheme: 'dark' });
    await signIn(phone, 'alice');
    const row = phone.getByRole('row', { name: /Alice private key/ });
    await expect(row).toBeVisible();
    await expect(phone.getByRole('button', { name: 'Delete API key Alice private key' })).toBeInViewport();
    const background = await phone.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).not.toBe('rgb(255, 255, 255)');
    await screenshot(phone, '08-phone-dark');
    await expectAccessible(phone);
    await phone.context().close();
  });

  test('signs out', async () => {
    // Wait for the sign-out itself: it revokes the session at the provider before it answers.
    await Promise.all([
      page.waitForResponse((response) => response.url().endsWith('/api/auth/logout') && response.status() === 200),
      page.getByRole('button', { name: 'Sign out' }).click(),
    ]);
    await expect(page).toHaveURL(/localhost:\d+\/(settings\/api-keys|realms\/dev\/protocol\/openid-connect\/auth.*)$/);
    const response = await page.request.get('/api/keys');
    expect(response.status()).toBe(401);
  });
});

test.describe('Swagger UI with a console session', () => {
  test('renders under its content security policy and creates a key with "Try it out"', async ({ browser }) => {
    const docs = await newPage(browser);
    const violations: string[] = [];
    docs.on('console', (message) => {
      if (/Content.Security.Policy|Refused to/i.test(message.text())) violations.push(message.text());
    });
    await signIn(docs, 'bob');
    await docs.goto('/api/docs');
    const create = docs
      .locator('.opblock-post')
      .filter({ has: docs.locator('[data-path="/api/keys"]') })
      .first();
    await create.locator('.opblock-summary').click();
    await create.getByRole('button', { name: 'Try it out' }).click();
    await create.locator('textarea.body-param__text').fill(JSON.stringify({ name: 'from Swagger UI' }));
    await create.getByRole('button', { name: 'Execute' }).click();
    // The session's XSRF token went along (without it: 403 csrf_token_invalid).
    await expect(create.locator('.live-responses-table tbody .response-col_status').first()).toHaveText('201');
    await screenshot(docs, '10-swagger-try-it-out');
    expect(violations).toEqual([]);
    await docs.context().close();
  });
});
