import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { provideI18nTesting } from '../i18n/testing';
import type { AdminAuditEvent } from './admin.api';
import { AuditPage } from './audit-page';

const anEvent = (id: number, over: Partial<AdminAuditEvent> = {}): AdminAuditEvent => ({
  id,
  occurred_at: new Date(Date.now() - id * 60_000).toISOString(),
  type: 'api_key.revoked',
  actor_user_id: 'admin-id',
  actor_auth_type: 'cookie',
  actor_key_id: null,
  subject_user_id: 'bob-id',
  key_id: 7,
  key_name: 'Export',
  key_hint: 'sk-oh-…AbCd',
  client_address: '203.0.113.7',
  user_agent: 'Firefox',
  request_id: 'req-1',
  details: { reason: 'Laptop stolen', by_admin: true } as AdminAuditEvent['details'],
  ...over,
});

const settle = () => new Promise((resolve) => setTimeout(resolve, 350));

describe('AuditPage', () => {
  let fixture: ComponentFixture<AuditPage>;
  let http: HttpTestingController;
  let loader: HarnessLoader;

  beforeEach(() => {
    TestBed.configureTestingModule({
      imports: [AuditPage],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(AuditPage);
    loader = TestbedHarnessEnvironment.loader(fixture);
    fixture.detectChanges();
  });
  afterEach(() => http.verify());

  it('lists everyone’s events in words, with who and about whom, and pages back by cursor', async () => {
    http
      .expectOne('/api/admin/audit-events?limit=50')
      .flush({ items: [anEvent(2), anEvent(1, { type: 'policy.updated', key_name: null, key_hint: null })], next_cursor: '1' });
    await fixture.whenStable();
    const cells = await (await loader.getHarness(MatTableHarness)).getCellTextByColumnName();
    expect(cells['what'].text).toEqual(['API key deleted “Export” by an administrator: Laptop stolen sk-oh-…AbCd', 'Key policy changed']);
    expect(cells['who'].text).toEqual(['admin-id', 'admin-id']);
    expect(cells['subject'].text).toEqual(['bob-id', 'bob-id']);
    await (await loader.getHarness(MatButtonHarness.with({ text: /Older/ }))).click();
    http.expectOne('/api/admin/audit-events?limit=50&after=1').flush({ items: [anEvent(0)], next_cursor: null });
    await fixture.whenStable();
    expect(await (await loader.getHarness(MatButtonHarness.with({ text: /Older/ }))).isDisabled()).toBe(true);
    await (await loader.getHarness(MatButtonHarness.with({ text: /Newer/ }))).click();
    http.expectOne('/api/admin/audit-events?limit=50').flush({ items: [anEvent(2)], next_cursor: '1' });
  });

  it('filters on the server, and the CSV link carries the same filter', async () => {
    http.expectOne('/api/admin/audit-events?limit=50').flush({ items: [], next_cursor: null });
    await (await loader.getHarness(MatInputHarness.with({ selector: '[data-testid="audit-user"]' }))).setValue('bob');
    await (await loader.getHarness(MatSelectHarness)).clickOptions({ text: 'API key deleted' });
    await settle();
    http.expectOne('/api/admin/audit-events?user=bob&type=api_key.revoked&limit=50').flush({ items: [], next_cursor: null });
    await fixture.whenStable();
    const link = (fixture.nativeElement as HTMLElement).querySelector('[data-testid="audit-csv"]')!;
    expect(link.getAttribute('href')).toBe('/api/admin/audit-events.csv?user=bob&type=api_key.revoked');
    expect(fixture.nativeElement.textContent).toContain('No event matches.');
  });
});
