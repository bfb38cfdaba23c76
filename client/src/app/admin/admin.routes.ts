import { Routes } from '@angular/router';
import { MatPaginatorIntl } from '@angular/material/paginator';
import { materialPageProviders } from '../shared/material-page-providers';
import { TranslatedPaginatorIntl } from '../shared/material-intl';

/** Admin → Overview, Keys, Audit log, Policy: lazy pages behind adminGuard (app.routes). */
export const adminRoutes: Routes = [
  {
    path: '',
    providers: [...materialPageProviders(), { provide: MatPaginatorIntl, useClass: TranslatedPaginatorIntl }],
    children: [
      { path: '', pathMatch: 'full', redirectTo: 'overview' },
      { path: 'overview', title: 'nav.overview', loadComponent: () => import('./overview-page').then((m) => m.OverviewPage) },
      { path: 'keys', title: 'nav.keys', loadComponent: () => import('./admin-keys-page').then((m) => m.AdminKeysPage) },
      { path: 'audit', title: 'nav.audit', loadComponent: () => import('./audit-page').then((m) => m.AuditPage) },
      { path: 'policy', title: 'nav.policy', loadComponent: () => import('./policy-page').then((m) => m.PolicyPage) },
    ],
  },
];
