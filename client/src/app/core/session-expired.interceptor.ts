import { HttpErrorResponse, HttpInterceptorFn } from '@angular/common/http';
import { inject } from '@angular/core';
import { Router } from '@angular/router';
import { catchError, throwError } from 'rxjs';
import { Session, SIGN_IN_PROBLEM_PATH, SKIP_SIGN_IN_REDIRECT } from './session';

/** A 401 from the API means the session is gone: sign in again and come back here (once; see authGuard). */
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
        if (session.signInJustFailed()) {
          session.noteRefusal(error);
          void router.navigateByUrl(SIGN_IN_PROBLEM_PATH);
        } else {
          session.signIn(router.url);
        }
      }
      return throwError(() => error);
    }),
  );
};
