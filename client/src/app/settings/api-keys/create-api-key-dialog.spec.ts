import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component, provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatCheckboxHarness } from '@angular/material/checkbox/testing';
import { MatDialog } from '@angular/material/dialog';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatFormFieldHarness } from '@angular/material/form-field/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { CreatedApiKey } from './api-keys.api';
import { CreateApiKeyDialog } from './create-api-key-dialog';
import { provideI18nTesting } from '../../i18n/testing';

/** The environment's defaults: a year at most, expiry optional, every ordinary scope. */
export const POLICY = {
  max_lifetime_days: 365,
  expiry_required: false,
  max_keys_per_user: 100,
  allowed_scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'],
  default_scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'],
  expiry_warning_days: 7,
  updated_at: null,
};

/** An empty host: the dialog renders into the overlay container, found from the document root. */
@Component({ template: '' })
class Host {}

describe('CreateApiKeyDialog', () => {
  let loader: HarnessLoader;
  let http: HttpTestingController;
  let closedWith: CreatedApiKey | undefined | 'open';

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    closedWith = 'open';
    const fixture = TestBed.createComponent(Host);
    TestBed.inject(MatDialog)
      .open(CreateApiKeyDialog)
      .afterClosed()
      .subscribe((v) => (closedWith = v));
    await fixture.whenStable();
    loader = TestbedHarnessEnvironment.documentRootLoader(fixture);
  });

  /** Opens the dialog's policy request and answers it. */
  function answerPolicy(policy: Partial<typeof POLICY> = {}) {
    http.expectOne('/api/policy').flush({ ...POLICY, ...policy });
  }

  afterEach(() => http.verify());

  async function parts(policy: Partial<typeof POLICY> = {}) {
    answerPolicy(policy);
    const dialog = await loader.getHarness(MatDialogHarness);
    const name = await dialog.getHarness(MatInputHarness);
    const create = await dialog.getHarness(MatButtonHarness.with({ text: /Create/ }));
    return { dialog, name, create };
  }

  it('keeps Create disabled until the name is valid', async () => {
    const { name, create } = await parts();
    expect(await create.isDisabled()).toBe(true);
    await name.setValue('   ');
    expect(await create.isDisabled()).toBe(true);
    await name.setValue('x'.repeat(256));
    await name.blur();
    expect(await create.isDisabled()).toBe(true);
    const field = await loader.getHarness(MatFormFieldHarness.with({ floatingLabelText: 'Name' }));
    expect(await field.getTextErrors()).toEqual(['At most 255 characters.']);
    await name.setValue('  CI deploy  ');
    expect(await create.isDisabled()).toBe(false);
  });

  it('sends the trimmed name, the chosen expiry and scopes, and closes with the created key', async () => {
    const { dialog, name, create } = await parts();
    await name.setValue('  CI deploy  ');
    await (await dialog.getHarness(MatSelectHarness)).clickOptions({ text: '30 days' });
    await (await dialog.getHarness(MatCheckboxHarness.with({ label: /MCP clients/ }))).uncheck();
    await create.click();
    expect(await create.isDisabled()).toBe(true); // pending
    const request = http.expectOne({ method: 'POST', url: '/api/keys' });
    expect(request.request.body.name).toBe('CI deploy');
    expect(request.request.body.scopes).toEqual(['keys:read', 'keys:write', 'llm:read', 'llm:write']);
    const days = (Date.parse(request.request.body.expires_at) - Date.now()) / 86400e3;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    request.flush({ id: 1, name: 'CI deploy', key: 'sk-oh-x' });
    await TestBed.inject(MatDialog).openDialogs[0]?.afterClosed().toPromise();
    expect(closedWith).toMatchObject({ key: 'sk-oh-x' });
  });

  it('shows a duplicate-name conflict on the name field and stays open', async () => {
    const { name, create } = await parts();
    await name.setValue('deploy');
    await create.click();
    http.expectOne('/api/keys').flush(
      {
        status: 409,
        title: 'Conflict',
        code: 'duplicate_name',
        detail: 'You already have an active API key named "deploy". Choose another name.',
      },
      { status: 409, statusText: 'Conflict' },
    );
    const field = await loader.getHarness(MatFormFieldHarness.with({ floatingLabelText: 'Name' }));
    expect(await field.getTextErrors()).toEqual(['You already have an active API key named "deploy". Choose another name.']);
    expect(closedWith).toBe('open');
    expect(await (await loader.getAllHarnesses(MatDialogHarness)).length).toBe(1);
  });

  it('shows other server errors inside the dialog and lets the person retry', async () => {
    const { dialog, name, create } = await parts();
    await name.setValue('deploy');
    await create.click();
    http
      .expectOne('/api/keys')
      .flush(
        { status: 409, title: 'Conflict', code: 'key_limit_reached', detail: 'You already have 100 active API keys, the maximum.' },
        { status: 409, statusText: 'Conflict' },
      );
    expect(await dialog.getText()).toContain('You already have 100 active API keys, the maximum.');
    expect(await create.isDisabled()).toBe(false);
    expect(closedWith).toBe('open');
  });

  it('needs at least one scope', async () => {
    const { dialog, name, create } = await parts();
    await name.setValue('deploy');
    for (const box of await dialog.getAllHarnesses(MatCheckboxHarness)) await box.uncheck();
    expect(await create.isDisabled()).toBe(true);
    expect(await dialog.getText()).toContain('Choose at least one scope.');
  });

  it("offers only what the organisation's policy allows, and dates up to its maximum", async () => {
    const { dialog } = await parts({
      max_lifetime_days: 60,
      expiry_required: true,
      allowed_scopes: ['keys:read', 'mcp'],
      default_scopes: ['keys:read'],
    });
    const select = await dialog.getHarness(MatSelectHarness);
    await select.open();
    const options = await Promise.all((await select.getOptions()).map((o) => o.getText()));
    expect(options).toEqual(['30 days', '60 days (the maximum)', 'On a date…']);
    await select.close();
    expect(await dialog.getText()).toContain('Your organisation allows keys for at most 60 days.');
    const boxes = await dialog.getAllHarnesses(MatCheckboxHarness);
    expect(await Promise.all(boxes.map((b) => b.getLabelText()))).toEqual([
      expect.stringContaining('Read keys'),
      expect.stringContaining('MCP clients'),
    ]);
    expect(await Promise.all(boxes.map((b) => b.isChecked()))).toEqual([true, false]);
  });

  it('sends the maximum lifetime when it is chosen', async () => {
    const { dialog, name, create } = await parts({ max_lifetime_days: 500 });
    await name.setValue('long');
    await (await dialog.getHarness(MatSelectHarness)).clickOptions({ text: '500 days (the maximum)' });
    await create.click();
    const request = http.expectOne({ method: 'POST', url: '/api/keys' });
    const days = (Date.parse(request.request.body.expires_at) - Date.now()) / 86400e3;
    expect(days).toBeGreaterThan(499.9);
    expect(days).toBeLessThanOrEqual(500);
    request.flush({ id: 1, name: 'long', key: 'sk-oh-x' });
  });
});
