import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatTableHarness } from '@angular/material/table/testing';
import { provideI18nTesting } from '../i18n/testing';
import { OverviewPage } from './overview-page';

describe('OverviewPage', () => {
  it('shows the counts, the charts’ summaries and the busiest keys; retries after an error', async () => {
    TestBed.configureTestingModule({
      imports: [OverviewPage],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    const http = TestBed.inject(HttpTestingController);
    const fixture = TestBed.createComponent(OverviewPage);
    const loader = TestbedHarnessEnvironment.loader(fixture);
    fixture.detectChanges();
    http
      .expectOne('/api/admin/overview')
      .flush(
        { status: 503, code: 'database_unavailable', detail: 'The database is unavailable.' },
        { status: 503, statusText: 'Unavailable' },
      );
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('The overview could not be loaded. The database is unavailable.');
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Retry' }))).click();
    http.expectOne('/api/admin/overview').flush({
      keys: { active: 1234, expiring: 2, expired: 3, rotated: 0 },
      created_per_day: [{ day: '2026-11-29T00:00:00Z', count: 4 }],
      auth_failures_per_hour: [{ hour: '2026-11-30T10:00:00Z', count: 7 }],
      top_keys: [{ key_id: 9, user_id: 'u-bob', username: 'bob', name: 'Export', key_hint: 'sk-oh-…AAAA', requests: 5000, failures: 1 }],
    });
    await fixture.whenStable();
    const element: HTMLElement = fixture.nativeElement;
    expect(element.querySelector('[data-testid="count-active"]')?.textContent).toBe('1,234');
    expect(element.querySelectorAll('canvas')[0].getAttribute('aria-label')).toBe('4 key(s) created in the last 30 days.');
    expect(element.querySelectorAll('canvas')[1].getAttribute('aria-label')).toBe('7 refused authentication(s) in the last 24 hours.');
    const cells = await (await loader.getHarness(MatTableHarness)).getCellTextByColumnName();
    expect(cells['owner'].text).toEqual(['bob']);
    expect(cells['requests'].text).toEqual(['5,000']);
    http.verify();
  });
});
