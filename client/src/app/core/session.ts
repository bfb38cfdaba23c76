import { HttpClient, HttpContext, HttpContextToken, HttpErrorResponse } from '@angular/common/http';
import { computed, inject, Injectable, signal } from '@angular/core';
import { catchError, map, Observable, of, tap } from 'rxjs';
import type { components } from '../api/openapi';
import { BrowserLocation } from './browser-location';

/** Requests marked with this do not trigger the "session expired, sign in again" redirect. */
export const SKIP_SIGN_IN_REDIRECT = new HttpContextToken<boolean>(() => false);

/** Where the console explains a sign-in that came back without a usable session. */
export const SIGN_IN_PROBLEM_PATH = '/sign-in-problem';

/** Set when the browser leaves to sign in; cleared once the API accepts the session. */
const ATTEMPT_KEY = 'api-keys.sign-in-attempt';
/** A 401 this soon after leaving to sign in means the round trip did not work: do not go again. */
const ATTEMPT_WINDOW_MS = 2 * 60_000;

/** Who is signed in: the server's answer to "which credential is calling". */
export type SignedInUser = components['schemas']['CurrentCredentialResponse'];
type LogoutResponse = components['schemas']['LogoutResponse'];

/** What the API said when it refused the session (its problem body). */
export interface SignInProblem {
  code?: string;
  detail?: string;
}

/** The browser session: who is signed in, and the ways in and out (server-side OIDC flow). */
@Injectable({ providedIn: 'root' })
export class Session {
  private readonly http = inject(HttpClient);
  private readonly location = inject(BrowserLocation);
  private redirecting = false;

  readonly user = signal<SignedInUser | null>(null);
  /**
   * May see the administration pages: the session holds `admin:read`, which the server grants
   * only to the admin and auditor roles. The server checks every admin call on its own; this only
   * decides what the console shows.
   */
  readonly isAdmin = computed(() => this.user()?.scopes?.includes('admin:read') ?? false);
  /** May change things there (revoke keys, edit the policy): `admin:write`, the admin role. */
  readonly canAdminister = computed(() => this.user()?.scopes?.includes('admin:write') ?? false);
  /** Why the API refused the session right after a sign-in; shown instead of signing in again. */
  readonly problem = signal<SignInProblem | null>(null);

  /** Asks the server who is signed in; false when nobody is. */
  load(): Observable<boolean> {
    return this.http.get<SignedInUser>('/api/keys/current', { context: new HttpContext().set(SKIP_SIGN_IN_REDIRECT, true) }).pipe(
      tap((user) => {
        this.user.set(user);
        this.problem.set(null);
        sessionStorage.removeItem(ATTEMPT_KEY);
      }),
      map(() => true),
      catchError((error: unknown) => {
        this.noteRefusal(error);
        return of(false);
      }),
    );
  }

  /** Remembers the API's reason for a 401, for the sign-in problem page. */
  noteRefusal(error: unknown): void {
    if (!(error instanceof HttpErrorResponse) || error.status !== 401) return;
    const body = (error.error ?? {}) as SignInProblem;
    this.problem.set({
      code: typeof body.code === 'string' ? body.code : undefined,
      detail: typeof body.detail === 'string' ? body.detail : undefined,
    });
  }

  /**
   * True when the browser came back from signing in moments ago and the API still refuses it:
   * going to the identity provider again would only loop (its single sign-on answers at once).
   */
  signInJustFailed(): boolean {
    const startedAt = Number(sessionStorage.getItem(ATTEMPT_KEY));
    return Number.isFinite(startedAt) && startedAt > 0 && Date.now() - startedAt < ATTEMPT_WINDOW_MS;
  }

  /** Leaves for the identity provider; comes back to `returnTo`. */
  signIn(returnTo: string): void {
    if (this.redirecting) return;
    this.redirecting = true;
    sessionStorage.setItem(ATTEMPT_KEY, String(Date.now()));
    this.location.assign(`/api/auth/login?return_to=${encodeURIComponent(returnTo)}`);
  }

  /** "Try again" on the problem page: a deliberate new attempt. */
  retrySignIn(): void {
    sessionStorage.removeItem(ATTEMPT_KEY);
    this.signIn('/');
  }

  signOut(): void {
    this.http.post<LogoutResponse>('/api/auth/logout', null).subscribe({
      next: ({ logout_url }) => this.location.assign(logout_url),
      error: () => this.location.assign('/'),
    });
  }
}
