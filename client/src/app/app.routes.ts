import { Routes } from '@angular/router';
import { adminGuard } from './core/admin.guard';
import { authGuard } from './core/auth.guard';

/**
 * Each page loads with its own chunk, Material included (see materialPageProviders). Titles are
 * translation keys (TranslatedTitleStrategy).
 */
export const routes: Routes = [
  { path: '', pathMatch: 'full', redirectTo: 'settings/api-keys' },
  {
    path: 'settings/api-keys',
    title: 'nav.apiKeys',
    canActivate: [authGuard],
    loadChildren: () => import('./settings/api-keys/api-keys.routes').then((m) => m.apiKeysRoutes),
  },
  {
    path: 'activity',
    title: 'nav.activity',
    canActivate: [authGuard],
    loadChildren: () => import('./activity/activity.routes').then((m) => m.activityRoutes),
  },
  {
    path: 'settings/webhooks',
    title: 'nav.webhooks',
    canActivate: [authGuard],
    loadChildren: () => import('./webhooks/webhooks.routes').then((m) => m.webhooksRoutes),
  },
  {
    // Admins only: the route does not even match for others, so its chunk never loads for them.
    path: 'admin',
    canMatch: [adminGuard],
    canActivate: [authGuard],
    loadChildren: () => import('./admin/admin.routes').then((m) => m.adminRoutes),
  },
  {
    path: 'sign-in-problem',
    title: 'nav.signInProblem',
    loadComponent: () => import('./core/sign-in-problem-page').then((m) => m.SignInProblemPage),
  },
  { path: '**', redirectTo: 'settings/api-keys' },
];
