import { inject } from '@angular/core';
import { CanMatchFn, Router } from '@angular/router';
import { map } from 'rxjs';
import { Session } from './session';

/**
 * The admin pages exist only for people whose session holds `admin:read`: for everyone else the
 * route does not match (its chunk is never loaded) and they land on their own keys. The API
 * refuses them on its own (403) whatever the console does.
 */
export const adminGuard: CanMatchFn = () => {
  const session = inject(Session);
  const router = inject(Router);
  const decide = () => session.isAdmin() || router.parseUrl('/settings/api-keys');
  if (session.user()) return decide();
  // A deep link straight to an admin page: sign in first (authGuard on the child routes), then decide.
  return session.load().pipe(map((signedIn) => (signedIn ? decide() : true)));
};
