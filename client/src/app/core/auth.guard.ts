import { inject } from '@angular/core';
import { CanActivateFn, Router } from '@angular/router';
import { map } from 'rxjs';
import { Session, SIGN_IN_PROBLEM_PATH } from './session';

/**
 * Visitors without a session go through the server's sign-in and come back to this URL — once:
 * refused again straight after signing in, they see why instead of going round again.
 */
export const authGuard: CanActivateFn = (_route, state) => {
  const session = inject(Session);
  const router = inject(Router);
  if (session.user()) return true;
  return session.load().pipe(
    map((signedIn) => {
      if (signedIn) return true;
      if (session.signInJustFailed()) return router.parseUrl(SIGN_IN_PROBLEM_PATH);
      session.signIn(state.url);
      return false;
    }),
  );
};
