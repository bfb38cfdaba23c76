import { HttpClient, HttpContext, HttpContextToken } from '@angular/common/http';
import { inject, Injectable, signal } from '@angular/core';
import { catchError, map, Observable, of, tap } from 'rxjs';
import type { components } from '../api/openapi';
import { BrowserLocation } from './browser-location';

/** Requests marked with this do not trigger the "session expired, sign in again" redirect. */
export const SKIP_SIGN_IN_REDIRECT = new HttpContextToken<boolean>(() => false);

/** Who is signed in: the server's answer to "which credential is calling". */
export type SignedInUser = components['schemas']['CurrentCredentialResponse'];
type LogoutResponse = components['schemas']['LogoutResponse'];

/** The browser session: who is signed in, and the ways in and out (server-side OIDC flow). */
@Injectable({ providedIn: 'root' })
export class Session {
  private readonly http = inject(HttpClient);
  private readonly location = inject(BrowserLocation);
  private redirecting = false;

  readonly user = signal<SignedInUser | null>(null);

  /** Asks the server who is signed in; false when nobody is. */
  load(): Observable<boolean> {
    return this.http.get<SignedInUser>('/api/keys/current', { context: new HttpContext().set(SKIP_SIGN_IN_REDIRECT, true) }).pipe(
      tap((user) => this.user.set(user)),
      map(() => true),
      catchError(() => of(false)),
    );
  }

  /** Leaves for the identity provider; comes back to `returnTo`. */
  signIn(returnTo: string): void {
    if (this.redirecting) return;
    this.redirecting = true;
    this.location.assign(`/api/auth/login?return_to=${encodeURIComponent(returnTo)}`);
  }

  signOut(): void {
    this.http.post<LogoutResponse>('/api/auth/logout', null).subscribe({
      next: ({ logout_url }) => this.location.assign(logout_url),
      error: () => this.location.assign('/'),
    });
  }
}
