import { Routes } from '@angular/router';
import { materialPageProviders } from '../shared/material-page-providers';
import { ActivityPage } from './activity-page';

export const activityRoutes: Routes = [{ path: '', component: ActivityPage, providers: materialPageProviders() }];
