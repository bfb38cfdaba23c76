import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ActivatedRouteSnapshot, provideRouter, Router, RouterStateSnapshot, UrlTree } from '@angular/router';
import { firstValueFrom, isObservable, Observable } from 'rxjs';
import { authGuard } from './auth.guard';
import { BrowserLocation } from './browser-location';
import { Session } from './session';
import { sessionExpiredInterceptor } from './session-expired.interceptor';

describe('Session, sign-in guard and 401 interceptor', () => {
  let http: HttpTestingController;
  let visited: string[];

  beforeEach(() => {
    visited = [];
    sessionStorage.clear();
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideRouter([{ path: 'sign-in-problem', children: [] }]),
        provideHttpClient(withInterceptors([sessionExpiredInterceptor])),
        provideHttpClientTesting(),
        { provide: BrowserLocation, useValue: { assign: (url: string) => visited.push(url) } },
      ],
    });
    http = TestBed.inject(HttpTestingController);
  });
  afterEach(() => http.verify());

  const runGuard = (url: string) =>
    TestBed.runInInjectionContext(() => authGuard({} as ActivatedRouteSnapshot, { url } as RouterStateSnapshot)) as
      Observable<boolean> | boolean;

  it('lets a signed-in visitor through and remembers who they are', async () => {
    const result = runGuard('/settings/api-keys');
    expect(isObservable(result)).toBe(true);
    const pending = firstValueFrom(result as Observable<boolean>);
    http.expectOne('/api/keys/current').flush({ user_id: 'u1', username: 'alice', auth_type: 'cookie' });
    expect(await pending).toBe(true);
    expect(TestBed.inject(Session).user()?.username).toBe('alice');
    expect(visited).toEqual([]);
  });

  it('sends a visitor without a session to sign in, coming back to the page asked for', async () => {
    const pending = firstValueFrom(runGuard('/settings/api-keys?tab=1') as Observable<boolean>);
    http.expectOne('/api/keys/current').flush({ status: 401, title: 'Unauthorized' }, { status: 401, statusText: 'Unauthorized' });
    expect(await pending).toBe(false);
    expect(visited).toEqual(['/api/auth/login?return_to=%2Fsettings%2Fapi-keys%3Ftab%3D1']);
  });

  it('sends the person to sign in again when the API answers 401 later, once', async () => {
    const client = TestBed.inject(HttpClient);
    const first = firstValueFrom(client.get('/api/keys')).catch(() => 'failed');
    const second = firstValueFrom(client.get('/api/keys')).catch(() => 'failed');
    for (const request of http.match('/api/keys')) request.flush({ status: 401 }, { status: 401, statusText: 'Unauthorized' });
    expect(await first).toBe('failed');
    expect(await second).toBe('failed');
    expect(visited).toEqual(['/api/auth/login?return_to=%2F']);
  });

  it('stops after one round trip when the API refuses the session it just got, and says why', async () => {
    // The browser left to sign in a moment ago and has just come back.
    TestBed.inject(Session).signIn('/settings/api-keys');
    expect(visited).toEqual(['/api/auth/login?return_to=%2Fsettings%2Fapi-keys']);
    const pending = firstValueFrom(runGuard('/settings/api-keys') as Observable<boolean | UrlTree>);
    http
      .expectOne('/api/keys/current')
      .flush(
        { status: 401, code: 'invalid_audience', detail: 'The access token was not issued for this service.' },
        { status: 401, statusText: 'Unauthorized' },
      );
    const result = await pending;
    expect(result instanceof UrlTree && TestBed.inject(Router).serializeUrl(result)).toBe('/sign-in-problem');
    expect(visited).toHaveLength(1);
    expect(TestBed.inject(Session).problem()).toEqual({
      code: 'invalid_audience',
      detail: 'The access token was not issued for this service.',
    });
  });

  it('does not send an API 401 back to sign in either, right after a sign-in', async () => {
    sessionStorage.setItem('api-keys.sign-in-attempt', String(Date.now() - 5_000));
    const failed = firstValueFrom(TestBed.inject(HttpClient).get('/api/keys')).catch(() => 'failed');
    http.expectOne('/api/keys').flush({ status: 401, code: 'session_ended' }, { status: 401, statusText: 'Unauthorized' });
    expect(await failed).toBe('failed');
    expect(visited).toEqual([]);
    expect(TestBed.inject(Session).problem()?.code).toBe('session_ended');
  });

  it('signs in again when the last attempt is long past, and forgets an attempt once the session works', async () => {
    sessionStorage.setItem('api-keys.sign-in-attempt', String(Date.now() - 10 * 60_000));
    const first = firstValueFrom(runGuard('/settings/api-keys') as Observable<boolean>);
    http.expectOne('/api/keys/current').flush({ status: 401 }, { status: 401, statusText: 'Unauthorized' });
    expect(await first).toBe(false);
    expect(visited).toEqual(['/api/auth/login?return_to=%2Fsettings%2Fapi-keys']);

    const second = firstValueFrom(runGuard('/settings/api-keys') as Observable<boolean>);
    http.expectOne('/api/keys/current').flush({ user_id: 'u1', auth_type: 'cookie' });
    expect(await second).toBe(true);
    expect(sessionStorage.getItem('api-keys.sign-in-attempt')).toBeNull();
  });

  it('signs out at the server, then at the identity provider', () => {
    TestBed.inject(Session).signOut();
    http.expectOne({ method: 'POST', url: '/api/auth/logout' }).flush({ logout_url: 'http://idp/logout' });
    expect(visited).toEqual(['http://idp/logout']);
  });
});
