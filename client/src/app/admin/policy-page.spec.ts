import { HarnessLoader } from '@angular/cdk/testing';
import { TestbedHarnessEnvironment } from '@angular/cdk/testing/testbed';
import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { MatButtonHarness } from '@angular/material/button/testing';
import { MatCheckboxHarness } from '@angular/material/checkbox/testing';
import { MatDialogHarness } from '@angular/material/dialog/testing';
import { MatFormFieldHarness } from '@angular/material/form-field/testing';
import { MatInputHarness } from '@angular/material/input/testing';
import { MatSlideToggleHarness } from '@angular/material/slide-toggle/testing';
import { Session } from '../core/session';
import { provideI18nTesting } from '../i18n/testing';
import type { AdminKeyPolicy } from './admin.api';
import { PolicyPage } from './policy-page';

const POLICY: AdminKeyPolicy = {
  max_lifetime_days: 365,
  expiry_required: false,
  max_keys_per_user: 100,
  allowed_scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp', 'admin:read', 'admin:write'],
  default_scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp'],
  expiry_warning_days: 7,
  updated_at: null,
  updated_by: null,
  source: 'environment',
};

describe('PolicyPage', () => {
  let fixture: ComponentFixture<PolicyPage>;
  let http: HttpTestingController;
  let loader: HarnessLoader;
  let root: HarnessLoader;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      imports: [PolicyPage],
      providers: [provideZonelessChangeDetection(), provideI18nTesting(), provideHttpClient(), provideHttpClientTesting()],
    });
    TestBed.inject(Session).user.set({ user_id: 'admin-id', auth_type: 'cookie', scopes: ['admin:read', 'admin:write'] } as never);
    http = TestBed.inject(HttpTestingController);
    fixture = TestBed.createComponent(PolicyPage);
    loader = TestbedHarnessEnvironment.loader(fixture);
    root = TestbedHarnessEnvironment.documentRootLoader(fixture);
    fixture.detectChanges();
    http.expectOne('/api/admin/policy').flush(POLICY);
    await fixture.whenStable();
  });

  afterEach(() => http.verify());

  const field = (label: string) => loader.getHarness(MatFormFieldHarness.with({ floatingLabelText: label }));

  it('refuses values out of range before sending anything', async () => {
    const lifetime = (await (await field('Maximum lifetime')).getControl(MatInputHarness))!;
    await lifetime.setValue('0');
    await lifetime.blur();
    expect(await (await field('Maximum lifetime')).getTextErrors()).toEqual(['A whole number from 1 to 36,500.']);
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Save' }))).click();
    expect(await root.getAllHarnesses(MatDialogHarness)).toHaveLength(0);
  });

  it('shows what changes for existing keys, then saves after the confirmation', async () => {
    await (await (await field('Maximum lifetime')).getControl(MatInputHarness))!.setValue('90');
    await (await loader.getHarness(MatSlideToggleHarness)).check();
    const mcpDefault = (await loader.getAllHarnesses(MatCheckboxHarness.with({ label: /MCP clients/ })))[1];
    await mcpDefault.uncheck();
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Save' }))).click();

    const dialog = await root.getHarness(MatDialogHarness);
    const text = await dialog.getText();
    expect(text).toContain('Maximum lifetime');
    expect(text).toContain('365 days → 90 days');
    expect(text).toContain('Existing keys keep their expiry, even beyond 90 days.');
    expect(text).toContain('Every key must expire');
    expect(text).toContain('Existing keys without an expiry keep working.');
    expect(text).toContain('Only new keys created without naming scopes get these.');
    await (await dialog.getHarness(MatButtonHarness.with({ text: 'Save policy' }))).click();
    await fixture.whenStable();
    await new Promise((resolve) => setTimeout(resolve, 300));

    const request = http.expectOne({ method: 'PUT', url: '/api/admin/policy' });
    expect(request.request.body).toEqual({
      max_lifetime_days: 90,
      expiry_required: true,
      max_keys_per_user: 100,
      expiry_warning_days: 7,
      allowed_scopes: POLICY.allowed_scopes,
      default_scopes: ['keys:read', 'keys:write', 'llm:read', 'llm:write'],
    });
    request.flush({
      ...POLICY,
      max_lifetime_days: 90,
      expiry_required: true,
      source: 'database',
      updated_at: new Date().toISOString(),
      updated_by: 'admin-id',
    });
    await fixture.whenStable();
    expect(fixture.nativeElement.textContent).toContain('Last changed');
  });

  it('does not send when nothing changed, and lets a default be only an allowed scope', async () => {
    await (await loader.getHarness(MatButtonHarness.with({ text: 'Save' }))).click();
    expect(await root.getAllHarnesses(MatDialogHarness)).toHaveLength(0);
    const mcpAllowed = (await loader.getAllHarnesses(MatCheckboxHarness.with({ label: /MCP clients/ })))[0];
    await mcpAllowed.uncheck();
    expect(fixture.nativeElement.textContent).toContain('Default scopes must be allowed scopes.');
  });
});
