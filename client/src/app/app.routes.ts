import { Routes } from '@angular/router';
import { authGuard } from './core/auth.guard';

/** Each page loads with its own chunk, Material included (see materialPageProviders). */
export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'settings/api-keys' },
  {
    path: 'settings/api-keys',
    title: 'API keys',
    canActivate: [authGuard],
    loadChildren: () => import('./settings/api-keys/api-keys.routes').then((m) => m.apiKeysRoutes),
  },
  {
    path: 'activity',
    title: 'Activity',
    canActivate: [authGuard],
    loadChildren: () => import('./activity/activity.routes').then((m) => m.activityRoutes),
  },
  {
    path: 'sign-in-problem',
    title: 'Sign-in problem',
    loadComponent: () => import('./core/sign-in-problem-page').then((m) => m.SignInProblemPage),
  },
  { path: '**', redirectTo: 'settings/api-keys' },
];
