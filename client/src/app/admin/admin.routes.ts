import { Routes } from '@angular/router';
import { materialPageProviders } from '../shared/material-page-providers';

/** Admin → Overview, Keys, Audit log, Policy: one lazy chunk per page, behind adminGuard (app.routes). */
export const adminRoutes: Routes = [
  {
    path: '',
    providers: materialPageProviders(),
    children: [{ path: '', pathMatch: 'full', redirectTo: 'overview' }],
  },
];
