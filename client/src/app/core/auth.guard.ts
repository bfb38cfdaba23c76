import { inject } from '@angular/core';
import { CanActivateFn } from '@angular/router';
import { map } from 'rxjs';
import { Session } from './session';

/** Visitors without a session go through the server's sign-in and come back to this URL. */
export const authGuard: CanActivateFn = (_route, state) => {
  const session = inject(Session);
  if (session.user()) return true;
  return session.load().pipe(
    map((signedIn) => {
      if (!signedIn) session.signIn(state.url);
      return signedIn;
    }),
  );
};
