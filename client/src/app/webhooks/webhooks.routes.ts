import { Routes } from '@angular/router';
import { WebhooksPage } from './webhooks-page';

/** Settings → Webhooks: a placeholder until the webhooks page lands. */
export const webhooksRoutes: Routes = [{ path: '', component: WebhooksPage }];
