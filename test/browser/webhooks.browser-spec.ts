import AxeBuilder from '@axe-core/playwright';
import { expect, type Page, test } from '@playwright/test';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { Webhook } from 'standardwebhooks';

const shots = resolve(__dirname, '../../test-results/browser');

async function expectAccessible(page: Page, include?: string): Promise<void> {
  const builder = new AxeBuilder({ page });
  if (include) builder.include(include);
  const { violations } = await builder.analyze();
  const severe = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(severe.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)).toEqual([]);
}

/** A customer's receiver: it keeps what it got, to verify with the secret the console showed. */
const received: Array<{ body: string; headers: IncomingHttpHeaders }> = [];
let receiver: Server;
let receiverUrl = '';

test.beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/key-events`;
});
test.afterAll(() => new Promise<void>((r) => receiver.close(() => r())));

test('adds a webhook, shows its secret once, and the signed messages arrive and show in the delivery log', async ({ browser }) => {
  const context = await browser.newContext({ permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  await page.goto('/settings/api-keys');
  await page.locator('#username').fill('alice');
  await page.locator('#password').fill('alice');
  await page.locator('#kc-login').click();
  await expect(page).toHaveURL(/\/settings\/api-keys$/);

  await page.getByRole('link', { name: 'Webhooks' }).first().click();
  await expect(page.getByRole('heading', { name: 'Webhooks', level: 1 })).toBeVisible();
  await expect(page.getByText('No webhooks yet.')).toBeVisible();
  await expectAccessible(page);

  await page.getByTestId('add-webhook').click();
  const dialog = page.getByRole('dialog', { name: 'Add a webhook' });
  await dialog.getByRole('button', { name: 'Add webhook' }).click();
  await expect(dialog.getByText('Enter the URL to call.')).toBeVisible();
  await dialog.getByLabel('Endpoint URL').fill(receiverUrl);
  await dialog.getByLabel('Description (optional)').fill('Security channel');
  // Only some events: untick the rest.
  for (const name of ['API key rotated', 'API key expires soon', 'API key expired', 'Replaced API key still in use']) {
    await dialog.getByRole('checkbox', { name: new RegExp(name) }).uncheck();
  }
  await expectAccessible(page, '.cdk-overlay-container');
  await page.screenshot({ path: join(shots, '20-add-webhook.png') });
  await dialog.getByRole('button', { name: 'Add webhook' }).click();

  const secretDialog = page.getByRole('dialog', { name: 'Your signing secret' });
  const secret = (await secretDialog.getByTestId('webhook-secret').textContent())!.trim();
  expect(secret).toMatch(/^whsec_/);
  await secretDialog.getByRole('button', { name: 'Copy' }).click();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  // Escape does not lose the secret; Close does.
  await page.keyboard.press('Escape');
  await expect(secretDialog).toBeVisible();
  await secretDialog.getByRole('button', { name: 'Close' }).click();
  await expect(secretDialog).toBeHidden();

  const card = page.locator('mat-card', { hasText: receiverUrl });
  await expect(card).toContainText('Enabled');
  await expect(card).toContainText('Security channel');
  await expect(card.getByRole('listitem')).toHaveText(['API key created', 'API key deleted', 'API key revoked after a leak report']);

  // A key event reaches the receiver, signed with the secret the console showed.
  const created = await page.request.post('/api/keys', {
    data: { name: 'hooked key' },
    headers: { 'x-xsrf-token': (await context.cookies()).find((c) => c.name === 'XSRF-TOKEN')?.value ?? '' },
  });
  expect(created.status()).toBe(201);
  await expect.poll(() => received.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(1);
  const payload = new Webhook(secret).verify(received[0].body, received[0].headers as Record<string, string>) as {
    type: string;
    data: { key: { name: string } };
  };
  expect(payload).toMatchObject({ type: 'api_key.created', data: { key: { name: 'hooked key' } } });
  expect(received[0].body).not.toContain((await created.json()).key);

  await card.getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByText('Test message queued')).toBeVisible();
  await expect.poll(() => received.length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  // The log shows what the server recorded: wait until both attempts are recorded as delivered.
  const [hook] = (await (await page.request.get('/api/webhooks')).json()) as Array<{ id: number }>;
  await expect
    .poll(async () => {
      const page2 = (await (await page.request.get(`/api/webhooks/${hook.id}/deliveries`)).json()) as { items: Array<{ status: string }> };
      return page2.items.map((d) => d.status);
    })
    .toEqual(['delivered', 'delivered']);
  await card.getByRole('button', { name: 'Hide log' }).click();
  await card.getByRole('button', { name: 'Delivery log' }).click();
  await expect(card.getByTestId('delivery-status')).toHaveText(['Delivered', 'Delivered']);
  await page.screenshot({ path: join(shots, '21-webhook-deliveries.png'), fullPage: true });
  await expectAccessible(page);

  await card.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete this webhook?' }).getByRole('button', { name: 'Delete' }).click();
  await expect(page.getByText('No webhooks yet.')).toBeVisible();
  await context.close();
});
