import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSnackBarHarness } from '@angular/material/snack-bar/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { ApiKey } from './api-keys.api';
import { ApiKeysPage } from './api-keys-page';
import { provideI18nTesting } from '../../i18n/testing';
import { POLICY } from './create-api-key-dialog.spec';

const aKey = (id: number, name: string): ApiKey => ({
  id,
  name,
  key_hint: 'sk-oh-…AbCd',
  scopes: ['keys:read'],
  created_at: new Date().toISOString(),
  last_used_at: null,
  expires_at: null,
  not_before: null,
  status: 'active',
  rate_limit_per_minute: null,
});

describe('ApiKeysPage', () => {
  let fixture: ComponentFixture<ApiKeysPage>;
  let http: HttpTestingController;
  let loader: HarnessLoader;
  let root: HarnessLoader;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [ApiKeysPage],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(ApiKeysPage);
    loader = TestbedHarnessEnvironment.loader(fixture);
    root = TestbedHarnessEnvironment.documentRootLoader(fixture);
    await fixture.whenStable();
    // The LLM key card loads beside the table; its own spec covers it.
    http.expectOne('/api/keys/llm/byor').flush({ key: 'sk-oh-llm-TESTKEY0000' });
  });

  afterEach(() => http.verify());

  const text = () => (fixture.nativeElement as HTMLElement).textContent ?? '';
  /** Dialogs close with an animation: wait until only the expected one is open. */
  async function dialogTitled(title: string): Promise<MatDialogHarness> {
    for (let attempt = 0; attempt < 50; attempt++) {
      await fixture.whenStable();
      const open = await root.getAllHarnesses(MatDialogHarness);
      for (const dialog of open) if ((await dialog.getTitleText()) === title) return dialog;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no dialog titled ${title}`);
  }
  async function allDialogsClosed(): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      await fixture.whenStable();
      if ((await root.getAllHarnesses(MatDialogHarness)).length === 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error('a dialog stayed open');
  }

  it('shows loading, then the empty state that invites a first key', async () => {
    expect(fixture.nativeElement.querySelector('mat-progress-bar')).not.toBeNull();
    http.expectOne('/api/keys').flush([]);
    await fixture.whenStable();
    expect(text()).toContain("You don't have any API keys yet. Create one to get started.");
    expect(await loader.getAllHarnesses(MatTableHarness)).toHaveLength(0);
  });

  it('shows one error with a retry instead of a toast, and recovers', async () => {
    http
      .expectOne('/api/keys')
      .flush(
        { status: 503, title: 'Service Unavailable', detail: 'The database is unavailable; try again shortly.' },
        { status: 503, statusText: 'Service Unavailable' },
      );
    await fixture.whenStable();
    expect(text()).toContain('The database is unavailable; try again shortly.');
    expect(await root.getAllHarnesses(MatSnackBarHarness)).toHaveLength(0);
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Retry' }))).click();
    http.expectOne('/api/keys').flush([aKey(1, 'CI')]);
    await fixture.whenStable();
    const table = await loader.getHarness(MatTableHarness);
    expect((await table.getCellTextByColumnName())['name'].text).toEqual(['CI']);
  });

  it('creates a key, shows it once in a dialog that Escape cannot close, and lists it first', async () => {
    http.expectOne('/api/keys').flush([aKey(1, 'Older')]);
    await fixture.whenStable();
    await (await loader.getHarness(MatButtonHarness.with({ text: /Create API key/ }))).click();
    const createDialog = await root.getHarness(MatDialogHarness);
    http.expectOne('/api/policy').flush(POLICY);
    await (await createDialog.getHarness(MatInputHarness)).setValue('New one');
    await (await createDialog.getHarness(MatButtonHarness.with({ text: /Create/ }))).click();
    http.expectOne({ method: 'POST', url: '/api/keys' }).flush({ ...aKey(2, 'New one'), key: 'sk-oh-THEFULLKEY' });
    await fixture.whenStable();

    const shown = await dialogTitled('API key created');
    expect(await shown.getText()).toContain('sk-oh-THEFULLKEY');
    expect(await shown.getText()).toContain('This is the only time your API key will be displayed.');
    await shown.close(); // presses Escape
    await fixture.whenStable();
    expect(await dialogTitled('API key created')).toBeTruthy();
    await (await shown.getHarness(MatButtonHarness.with({ text: 'Close' }))).click();
    await fixture.whenStable();

    const table = await loader.getHarness(MatTableHarness);
    expect((await table.getCellTextByColumnName())['name'].text).toEqual(['New one', 'Older']);
    expect(text()).not.toContain('sk-oh-THEFULLKEY');
  });

  it('deletes after a confirmation naming the key, and says so', async () => {
    http.expectOne('/api/keys').flush([aKey(7, 'Deploy')]);
    await fixture.whenStable();
    await (await loader.getHarness(MatButtonHarness.with({ selector: '[aria-label="Delete API key Deploy"]' }))).click();
    const confirm = await dialogTitled('Delete API key');
    expect(await confirm.getText()).toContain('Are you sure you want to delete the API key "Deploy"? This action cannot be undone.');
    await (await confirm.getHarness(MatButtonHarness.with({ text: 'Delete' }))).click();
    await allDialogsClosed();
    http.expectOne({ method: 'DELETE', url: '/api/keys/7' }).flush({ message: 'API key deleted successfully' });
    await fixture.whenStable();
    const snack = await root.getHarness(MatSnackBarHarness);
    expect(await snack.getMessage()).toBe('API key "Deploy" deleted');
    expect(text()).toContain("You don't have any API keys yet.");
  });

  it('keeps the key when deletion is cancelled, and explains a failed deletion', async () => {
    http.expectOne('/api/keys').flush([aKey(7, 'Deploy')]);
    await fixture.whenStable();
    const deleteButton = await loader.getHarness(MatButtonHarness.with({ selector: '[aria-label="Delete API key Deploy"]' }));
    await deleteButton.click();
    await (await (await dialogTitled('Delete API key')).getHarness(MatButtonHarness.with({ text: 'Cancel' }))).click();
    await allDialogsClosed();
    http.expectNone('/api/keys/7');
    await deleteButton.click();
    await (await (await dialogTitled('Delete API key')).getHarness(MatButtonHarness.with({ text: 'Delete' }))).click();
    await allDialogsClosed();
    http
      .expectOne('/api/keys/7')
      .flush(
        { status: 503, title: 'Service Unavailable', detail: 'The database is unavailable; try again shortly.' },
        { status: 503, statusText: 'Service Unavailable' },
      );
    await fixture.whenStable();
    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toBe(
      'Could not delete "Deploy": The database is unavailable; try again shortly.',
    );
    expect(text()).toContain('Deploy');
  });
});
