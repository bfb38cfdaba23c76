import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatSnackBarHarness } from '@angular/material/snack-bar/testing';
import { LlmKeyCard } from './llm-key-card';
import { provideI18nTesting } from '../../i18n/testing';

const KEY = 'sk-oh-llm-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

describe('LlmKeyCard', () => {
  let fixture: ComponentFixture<LlmKeyCard>;
  let http: HttpTestingController;
  let loader: HarnessLoader;
  let root: HarnessLoader;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [LlmKeyCard],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(LlmKeyCard);
    loader = TestbedHarnessEnvironment.loader(fixture);
    root = TestbedHarnessEnvironment.documentRootLoader(fixture);
    await fixture.whenStable();
  });
  afterEach(() => http.verify());

  const shown = () => (fixture.nativeElement.querySelector('[data-testid="llm-key"]') as HTMLElement).textContent!.trim();

  it('masks the key until asked, then shows and hides it', async () => {
    http.expectOne('/api/keys/llm/byor').flush({ key: KEY });
    await fixture.whenStable();
    expect(shown()).toBe(`sk-oh-${'•'.repeat(16)}6789`);
    expect(fixture.nativeElement.textContent).not.toContain(KEY);
    const toggle = await loader.getHarness(MatButtonHarness.with({ selector: '[aria-label="Show LLM key"]' }));
    await toggle.click();
    expect(shown()).toBe(KEY);
    expect(await (await toggle.host()).getAttribute('aria-pressed')).toBe('true');
    await toggle.click();
    expect(shown()).not.toContain('ABCDEF');
  });

  it('says clearly when the gateway is unavailable, and retries', async () => {
    http.expectOne('/api/keys/llm/byor').flush(
      {
        status: 503,
        title: 'Service Unavailable',
        code: 'llm_gateway_unavailable',
        detail: 'The LLM gateway is unreachable; try again shortly.',
      },
      { status: 503, statusText: 'Service Unavailable' },
    );
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('The LLM gateway is unavailable right now.');
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Retry' }))).click();
    http.expectOne('/api/keys/llm/byor').flush({ key: KEY });
    await fixture.whenStable();
    expect(shown()).toContain('6789');
  });

  it('refreshes only after a confirmation that the old key stops working', async () => {
    http.expectOne('/api/keys/llm/byor').flush({ key: KEY });
    await fixture.whenStable();
    const refresh = await loader.getHarness(MatButtonHarness.with({ text: /Refresh key/ }));
    await refresh.click();
    const dialog = await root.getHarness(MatDialogHarness);
    expect(await dialog.getText()).toContain('The old key stops working immediately');
    await (await dialog.getHarness(MatButtonHarness.with({ text: 'Refresh key' }))).click();
    for (let i = 0; i < 50 && (await root.getAllHarnesses(MatDialogHarness)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await fixture.whenStable();
    const request = http.expectOne({ method: 'POST', url: '/api/keys/llm/byor/refresh' });
    expect(await refresh.isDisabled()).toBe(true); // spinner while pending
    request.flush({ key: 'sk-oh-llm-NEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEWNEW9999' });
    await fixture.whenStable();
    expect(shown()).toContain('9999');
    expect(await (await root.getHarness(MatSnackBarHarness)).getMessage()).toBe('LLM key refreshed. The old key no longer works.');
  });
});
