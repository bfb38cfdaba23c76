import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { ApiKey } from './api-keys.api';
import { ApiKeysTable } from './api-keys-table';
import { provideI18nTesting } from '../../i18n/testing';

const key = (over: Partial<ApiKey>): ApiKey => ({
  id: 1,
  name: 'CI',
  key_hint: 'sk-oh-…AbCd',
  scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp', 'webhooks:read', 'webhooks:write'],
  created_at: new Date(Date.now() - 3 * 60e3).toISOString(),
  last_used_at: null,
  expires_at: null,
  not_before: null,
  status: 'active',
  rate_limit_per_minute: null,
  ...over,
});

describe('ApiKeysTable', () => {
  let fixture: ComponentFixture<ApiKeysTable>;
  let loader: HarnessLoader;

  beforeEach(async () => {
    TestBed.configureTestingModule({ imports: [ApiKeysTable], providers: [provideZonelessChangeDetection(), provideI18nTesting()] });
    fixture = TestBed.createComponent(ApiKeysTable);
    fixture.componentRef.setInput('keys', [
      key({
        id: 2,
        name: 'Newest',
        last_used_at: new Date(Date.now() - 2 * 60e3 - 5e3).toISOString(),
        expires_at: new Date(Date.now() + 3 * 86400e3).toISOString(),
        scopes: ['keys:read'],
      }),
      key({ id: 1, name: 'Oldest' }),
    ]);
    loader = TestbedHarnessEnvironment.loader(fixture);
    await fixture.whenStable();
  });

  it('shows one row per key, in the given (newest first) order, with hint, use and status', async () => {
    const table = await loader.getHarness(MatTableHarness);
    const rows = await table.getCellTextByColumnName();
    expect(rows['name'].text).toEqual(['Newest', 'Oldest']);
    expect(rows['hint'].text).toEqual(['sk-oh-…AbCd', 'sk-oh-…AbCd']);
    expect(rows['scopes'].text).toEqual(['keys:read', 'All']);
    expect(rows['lastUsed'].text[0]).toBe('2 minutes ago');
    expect(rows['lastUsed'].text[1]).toBe('Never');
    expect(rows['created'].text[1]).toBe('3 minutes ago');
    expect(rows['status'].text).toEqual(['Expires in 3 days', 'Active · no expiry']);
  });

  it('puts the exact time behind each relative one', () => {
    const time: HTMLElement = fixture.nativeElement.querySelector('time');
    expect(time.getAttribute('datetime')).toMatch(/Z$/);
    expect(time.getAttribute('title')).toMatch(/\d{4}/);
  });

  it('emits the key to delete and labels each delete button with its key', async () => {
    const emitted: ApiKey[] = [];
    fixture.componentInstance.deleteKey.subscribe((k) => emitted.push(k));
    const button = await loader.getHarness(MatButtonHarness.with({ selector: '[aria-label="Delete API key Oldest"]' }));
    await button.click();
    expect(emitted.map((k) => k.name)).toEqual(['Oldest']);
  });
});
