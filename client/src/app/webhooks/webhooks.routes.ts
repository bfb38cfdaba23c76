import { Routes } from '@angular/router';
import { materialPageProviders } from '../shared/material-page-providers';
import { WebhooksPage } from './webhooks-page';

/** Settings → Webhooks. */
export const webhooksRoutes: Routes = [{ path: '', component: WebhooksPage, providers: materialPageProviders() }];
