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

/** An empty host: the dialog renders into the overlay container, found from the document root. */
@Component({ template: '' })
class Host {}

describe('CreateApiKeyDialog', () => {
  let loader: HarnessLoader;
  let http: HttpTestingController;
  let closedWith: CreatedApiKey | undefined | 'open';

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideHttpClient(), provideHttpClientTesting()],
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

  afterEach(() => http.verify());

  async function parts() {
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
});
