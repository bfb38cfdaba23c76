import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Route, Router, UrlSegment, UrlTree } from '@angular/router';
import { firstValueFrom, isObservable, Observable } from 'rxjs';
import { adminGuard } from './admin.guard';
import { Session } from './session';

describe('adminGuard', () => {
  beforeEach(() => {
    TestBed.configureTestingModule({
      providers: [provideZonelessChangeDetection(), provideRouter([]), provideHttpClient(), provideHttpClientTesting()],
    });
  });

  const run = () => TestBed.runInInjectionContext(() => adminGuard({} as Route, [] as UrlSegment[]));
  const url = (result: unknown) => (result instanceof UrlTree ? TestBed.inject(Router).serializeUrl(result) : result);

  it('lets a session holding admin:read through', () => {
    TestBed.inject(Session).user.set({ user_id: 'a', auth_type: 'cookie', scopes: ['keys:read', 'admin:read'] });
    expect(run()).toBe(true);
  });

  it('sends everyone else to their own keys, without loading the admin pages', () => {
    TestBed.inject(Session).user.set({ user_id: 'b', auth_type: 'cookie', scopes: ['keys:read', 'keys:write'] });
    expect(url(run())).toBe('/settings/api-keys');
  });

  it('asks the server who is signed in first, on a deep link', async () => {
    const result = run();
    expect(isObservable(result)).toBe(true);
    const decided = firstValueFrom(result as Observable<unknown>);
    TestBed.inject(HttpTestingController)
      .expectOne('/api/keys/current')
      .flush({ user_id: 'b', auth_type: 'cookie', scopes: ['keys:read'] });
    expect(url(await decided)).toBe('/settings/api-keys');
  });
});
