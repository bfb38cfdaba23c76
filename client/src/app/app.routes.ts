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
  { path: '**', redirectTo: 'settings/api-keys' },
];
