import { HttpClient, provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { provideZonelessChangeDetection } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ActivatedRouteSnapshot, provideRouter, RouterStateSnapshot } from '@angular/router';
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
    TestBed.configureTestingModule({
      providers: [
        provideZonelessChangeDetection(),
        provideRouter([]),
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

  it('signs out at the server, then at the identity provider', () => {
    TestBed.inject(Session).signOut();
    http.expectOne({ method: 'POST', url: '/api/auth/logout' }).flush({ logout_url: 'http://idp/logout' });
    expect(visited).toEqual(['http://idp/logout']);
  });
});
