import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatCheckboxHarness } from '@angular/material/checkbox/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatPaginatorHarness } from '@angular/material/paginator/testing';
import { MatSortHarness } from '@angular/material/sort/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { Session } from '../core/session';
import { provideI18nTesting } from '../i18n/testing';
import type { AdminApiKey } from './admin.api';
import { AdminKeysPage } from './admin-keys-page';

const aKey = (id: number, user: string, over: Partial<AdminApiKey> = {}): AdminApiKey => ({
  id,
  user_id: `${user}-id`,
  username: user,
  name: `Key ${id}`,
  key_hint: `sk-oh-…000${id}`,
  scopes: ['keys:read'],
  created_at: new Date(Date.now() - id * 60_000).toISOString(),
  last_used_at: null,
  expires_at: null,
  not_before: null,
  status: 'active',
  ...over,
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 350));

describe('AdminKeysPage', () => {
  let fixture: ComponentFixture<AdminKeysPage>;
  let http: HttpTestingController;
  let loader: HarnessLoader;
  let root: HarnessLoader;

  function setUp(scopes: string[]) {
    TestBed.configureTestingModule({
      imports: [AdminKeysPage],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    TestBed.inject(Session).user.set({ user_id: 'admin-id', username: 'admin', auth_type: 'cookie', scopes } as never);
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(AdminKeysPage);
    loader = TestbedHarnessEnvironment.loader(fixture);
    root = TestbedHarnessEnvironment.documentRootLoader(fixture);
    fixture.detectChanges();
  }

  afterEach(() => http.verify());

  it('lists everyone’s keys with their owners, filters on the server, and pages by cursor', async () => {
    setUp(['admin:read', 'admin:write']);
    http
      .expectOne('/api/admin/keys?sort=created_at&limit=25')
      .flush({ items: [aKey(1, 'bob'), aKey(2, 'alice')], next_cursor: 'c1', total: 30 });
    await fixture.whenStable();
    const table = await loader.getHarness(MatTableHarness);
    const cells = await table.getCellTextByColumnName();
    expect(cells['owner'].text).toEqual(['bob', 'alice']);
    expect(fixture.nativeElement.textContent).toContain('30 key(s)');

    const paginator = await loader.getHarness(MatPaginatorHarness);
    expect(await paginator.getRangeLabel()).toBe('1 – 25 of 30');
    await paginator.goToNextPage();
    http.expectOne('/api/admin/keys?sort=created_at&limit=25&after=c1').flush({ items: [aKey(3, 'carol')], next_cursor: null, total: 30 });
    await fixture.whenStable();
    await paginator.goToPreviousPage();
    http.expectOne('/api/admin/keys?sort=created_at&limit=25').flush({ items: [aKey(1, 'bob')], next_cursor: 'c1', total: 30 });

    await (await loader.getHarness(MatInputHarness.with({ selector: '[data-testid="filter-user"]' }))).setValue('bob');
    await settle();
    http.expectOne('/api/admin/keys?user=bob&sort=created_at&limit=25').flush({ items: [aKey(1, 'bob')], next_cursor: null, total: 1 });
    await fixture.whenStable();

    const sort = await loader.getHarness(MatSortHarness);
    const lastUsed = (await sort.getSortHeaders({ label: 'Last used' }))[0];
    await lastUsed.click();
    http.expectOne('/api/admin/keys?user=bob&sort=last_used_at&limit=25').flush({ items: [], next_cursor: null, total: 0 });
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('No key matches.');
  });

  it('revokes the selected keys with a reason, then reloads', async () => {
    setUp(['admin:read', 'admin:write']);
    http
      .expectOne('/api/admin/keys?sort=created_at&limit=25')
      .flush({ items: [aKey(1, 'bob'), aKey(2, 'alice')], next_cursor: null, total: 2 });
    await fixture.whenStable();
    const boxes = await loader.getAllHarnesses(MatCheckboxHarness);
    await boxes[1].check();
    await boxes[2].check();
    await (await loader.getHarness(MatButtonHarness.with({ text: /Revoke selected \(2\)/ }))).click();
    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getTitleText()).toBe('Revoke 2 key(s)');
    const submit = await dialog.getHarness(MatButtonHarness.with({ text: 'Revoke' }));
    expect(await submit.isDisabled()).toBe(true);
    await (await dialog.getHarness(MatInputHarness)).setValue('  Left the company  ');
    await submit.click();
    await fixture.whenStable();
    await settle();
    const request = http.expectOne({ method: 'POST', url: '/api/admin/keys/revoke' });
    expect(request.request.body).toEqual({ ids: [1, 2], reason: 'Left the company' });
    request.flush({ revoked: [1], not_found: [2] });
    http.expectOne('/api/admin/keys?sort=created_at&limit=25').flush({ items: [], next_cursor: null, total: 0 });
    await fixture.whenStable();
    expect(document.body.textContent).toContain('1 key(s) revoked; 1 no longer existed');
  });

  it('is read-only for auditors: no selection, no revoke', async () => {
    setUp(['admin:read']);
    http.expectOne('/api/admin/keys?sort=created_at&limit=25').flush({ items: [aKey(1, 'bob')], next_cursor: null, total: 1 });
    await fixture.whenStable();
    expect(await loader.getAllHarnesses(MatCheckboxHarness)).toHaveLength(0);
    expect(await loader.getAllHarnesses(MatButtonHarness.with({ selector: '[aria-label^="Revoke"]' }))).toHaveLength(0);
  });
});
