import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, type TestRequest } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatCheckboxHarness } from '@angular/material/checkbox/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { provideI18nTesting } from '../i18n/testing';
import type { Webhook } from './webhooks.api';
import { WebhooksPage } from './webhooks-page';

const aHook = (id: number, overrides: Partial<Webhook> = {}): Webhook => ({
  id,
  url: `https://hooks.example.com/${id}`,
  description: 'Security channel',
  events: ['api_key.created', 'api_key.leaked'],
  created_at: new Date().toISOString(),
  status: 'enabled',
  disabled_reason: null,
  consecutive_failures: 0,
  ...overrides,
});

describe('WebhooksPage', () => {
  let fixture: ComponentFixture<WebhooksPage>;
  let http: HttpTestingController;
  let loader: HarnessLoader;
  let root: HarnessLoader;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [WebhooksPage],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(WebhooksPage);
    loader = TestbedHarnessEnvironment.loader(fixture);
    root = TestbedHarnessEnvironment.documentRootLoader(fixture);
    fixture.detectChanges();
  });
  afterEach(() => http.verify());

  const text = () => (fixture.nativeElement as HTMLElement).textContent ?? '';

  it('lists endpoints with their events, and says why a disabled one stopped', async () => {
    http
      .expectOne('/api/webhooks')
      .flush([aHook(1), aHook(2, { status: 'disabled', disabled_reason: 'Deliveries kept failing', consecutive_failures: 7 })]);
    await fixture.whenStable();
    expect(text()).toContain('https://hooks.example.com/1');
    expect(text()).toContain('API key revoked after a leak report');
    expect(text()).toContain('Deliveries kept failing');
    expect(text()).toContain('7 failed attempts in a row');
    expect(await loader.getAllHarnesses(MatButtonHarness.with({ text: 'Enable' }))).toHaveLength(1);
    expect(await loader.getAllHarnesses(MatButtonHarness.with({ text: 'Send test' }))).toHaveLength(1);
  });

  it('adds an endpoint with the chosen events and shows its secret once', async () => {
    http.expectOne('/api/webhooks').flush([]);
    await fixture.whenStable();
    expect(text()).toContain('No webhooks yet');
    await (await loader.getHarness(MatButtonHarness.with({ text: /Add webhook/ }))).click();
    const dialog = await root.getHarness(MatDialogHarness);
    await (
      await dialog.getHarness(MatInputHarness.with({ placeholder: 'https://hooks.example.com/api-keys' }))
    ).setValue('https://hooks.example.com/new');
    for (const box of await dialog.getAllHarnesses(MatCheckboxHarness)) {
      if (!(await box.getLabelText()).startsWith('API key created')) await box.uncheck();
    }
    await (await dialog.getHarness(MatButtonHarness.with({ text: 'Add webhook' }))).click();
    const request = http.expectOne({ method: 'POST', url: '/api/webhooks' });
    expect(request.request.body).toEqual({ url: 'https://hooks.example.com/new', events: ['api_key.created'] });
    request.flush({ ...aHook(3, { url: 'https://hooks.example.com/new', events: ['api_key.created'] }), secret: 'whsec_c2VjcmV0' });
    await fixture.whenStable();
    expect(document.querySelector('[data-testid="webhook-secret"]')?.textContent).toBe('whsec_c2VjcmV0');
    await (await dialog.getHarness(MatButtonHarness.with({ text: 'Close' }))).click();
    // Closing reloads the list (after the dialog's close animation).
    let reload: TestRequest[] = [];
    await expect.poll(() => (reload = reload.length ? reload : http.match('/api/webhooks')).length).toBe(1);
    reload[0].flush([aHook(3)]);
  });

  it('shows the server’s reason when the URL is refused, on the field', async () => {
    http.expectOne('/api/webhooks').flush([]);
    await fixture.whenStable();
    await (await loader.getHarness(MatButtonHarness.with({ text: /Add webhook/ }))).click();
    const dialog = await root.getHarness(MatDialogHarness);
    await (await dialog.getHarness(MatInputHarness)).setValue('https://10.0.0.1/hook');
    await (await dialog.getHarness(MatButtonHarness.with({ text: 'Add webhook' }))).click();
    http.expectOne({ method: 'POST', url: '/api/webhooks' }).flush(
      {
        type: '/problems/validation-failed',
        title: 'Unprocessable',
        status: 422,
        code: 'validation_failed',
        detail: 'url must not point at a private, loopback or link-local address',
        errors: [{ field: 'url', message: 'must not point at a private, loopback or link-local address' }],
      },
      { status: 422, statusText: 'Unprocessable Entity' },
    );
    await fixture.whenStable();
    expect(document.querySelector('mat-dialog-container')?.textContent).toContain('must not point at a private');
  });
});
