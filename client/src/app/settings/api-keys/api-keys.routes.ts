import { Routes } from '@angular/router';
import { materialPageProviders } from '../../shared/material-page-providers';
import { ApiKeysPage } from './api-keys-page';

export const apiKeysRoutes: Routes = [{ path: '', component: ApiKeysPage, providers: materialPageProviders() }];
