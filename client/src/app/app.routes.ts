import { Routes } from '@angular/router';
import { authGuard } from './core/auth.guard';

export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'settings/api-keys' },
  {
    path: 'settings/api-keys',
    title: 'API keys',
    canActivate: [authGuard],
    loadComponent: () => import('./settings/api-keys/api-keys-page').then((m) => m.ApiKeysPage),
  },
  {
    path: 'sign-in-problem',
    title: 'Sign-in problem',
    loadComponent: () => import('./core/sign-in-problem-page').then((m) => m.SignInProblemPage),
  },
  { path: '**', redirectTo: 'settings/api-keys' },
];
