import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { catchError, throwError } from 'rxjs';
import { Session, SKIP_SIGN_IN_REDIRECT } from './session';

/** A 401 from the API means the session is gone: sign in again and come back here. */
export const sessionExpiredInterceptor: HttpInterceptorFn = (request, next) => {
  const session = inject(Session);
  const router = inject(Router);
  return next(request).pipe(
    catchError((error: unknown) => {
      if (
        error instanceof HttpErrorResponse &&
        error.status === 401 &&
        request.url.startsWith('/api/') &&
        !request.context.get(SKIP_SIGN_IN_REDIRECT)
      ) {
        session.signIn(router.url);
      }
      return throwError(() => error);
    }),
  );
};
