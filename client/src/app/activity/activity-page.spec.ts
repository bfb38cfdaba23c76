import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatSelectHarness } from '@angular/material/select/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import type { AuditEvent } from './activity.api';
import { ActivityPage } from './activity-page';
import { provideI18nTesting } from '../i18n/testing';

const anEvent = (id: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  id,
  occurred_at: new Date(Date.now() - id * 60_000).toISOString(),
  type: 'api_key.created',
  actor_user_id: 'u1',
  actor_auth_type: 'cookie',
  actor_key_id: null,
  key_id: 7,
  key_name: 'Deploy script',
  key_hint: 'sk-oh-…AbCd',
  client_address: '203.0.113.7',
  user_agent: 'Firefox',
  request_id: 'req-1',
  details: { scopes: ['keys:read'], expires_at: null },
  ...overrides,
});

describe('ActivityPage', () => {
  let fixture: ComponentFixture<ActivityPage>;
  let http: HttpTestingController;
  let loader: HarnessLoader;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [ActivityPage],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(ActivityPage);
    loader = TestbedHarnessEnvironment.loader(fixture);
    fixture.detectChanges();
  });
  afterEach(() => http.verify());

  it('lists the events in words, with the credential and the address, and pages back through older ones', async () => {
    http.expectOne('/api/audit-events?limit=25').flush({
      items: [anEvent(2, { type: 'api_key.revoked', actor_auth_type: 'api_key', actor_key_id: 12 }), anEvent(1)],
      next_cursor: '1',
    });
    await fixture.whenStable();
    const table = await loader.getHarness(MatTableHarness);
    const rows = await table.getCellTextByColumnName();
    expect(rows['what'].text).toEqual(['API key deleted “Deploy script”', 'API key created “Deploy script” with keys:read']);
    expect(rows['how'].text).toEqual(['API key #12', 'console']);
    expect(rows['from'].text).toEqual(['203.0.113.7', '203.0.113.7']);

    await (await loader.getHarness(MatButtonHarness.with({ text: 'Show older events' }))).click();
    http
      .expectOne('/api/audit-events?limit=25&after=1')
      .flush({ items: [anEvent(0, { type: 'session.signed_in', key_name: null, key_hint: null })], next_cursor: null });
    await fixture.whenStable();
    expect((await table.getCellTextByColumnName())['what'].text).toHaveLength(3);
    expect(await loader.getAllHarnesses(MatButtonHarness.with({ text: 'Show older events' }))).toHaveLength(0);
  });

  it('says when an LLM key was revoked because it leaked, where it was found, and that the next fetch brings a new one', async () => {
    http.expectOne('/api/audit-events?limit=25').flush({
      items: [
        anEvent(5, {
          type: 'llm_key.leaked',
          key_id: null,
          key_name: null,
          key_hint: null,
          actor_auth_type: 'secret_scanning',
          details: { reason: 'leak', url: 'https://github.com/octo/repo/blob/abc/.env#L2', source: 'content', signed: false },
        }),
        anEvent(4, {
          type: 'llm_key.leaked',
          key_id: null,
          key_name: null,
          key_hint: null,
          details: { reason: 'leak', signed: false },
        }),
        anEvent(3, {
          type: 'llm_key.refreshed',
          key_id: null,
          key_name: null,
          key_hint: null,
          details: { source: 'litellm', reason: 'leak' },
        }),
      ],
      next_cursor: null,
    });
    await fixture.whenStable();
    const rows = await (await loader.getHarness(MatTableHarness)).getCellTextByColumnName();
    expect(rows['what'].text).toEqual([
      'LLM key leaked at https://github.com/octo/repo/blob/abc/.env#L2: it no longer works; a new one is issued on the next fetch',
      'LLM key leaked: it no longer works; a new one is issued on the next fetch',
      'LLM key refreshed (the one reported leaked was replaced)',
    ]);
  });

  it('filters by event type on the server', async () => {
    http.expectOne('/api/audit-events?limit=25').flush({ items: [], next_cursor: null });
    const select = await loader.getHarness(MatSelectHarness);
    await select.open();
    await select.clickOptions({ text: 'Signed in' });
    http
      .expectOne('/api/audit-events?limit=25&type=session.signed_in')
      .flush({ items: [anEvent(3, { type: 'session.signed_in' })], next_cursor: null });
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Signed in');
  });

  it('says when nothing happened yet, and offers a retry after an error', async () => {
    http.expectOne('/api/audit-events?limit=25').flush({ detail: 'Database unavailable' }, { status: 503, statusText: 'Unavailable' });
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('The activity could not be loaded. Database unavailable');
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Retry' }))).click();
    http.expectOne('/api/audit-events?limit=25').flush({ items: [], next_cursor: null });
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Nothing yet.');
  });
});
