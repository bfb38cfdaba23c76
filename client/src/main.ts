import { bootstrapApplication } from '@angular/platform-browser';
import { App } from './app/app';
import { appConfig } from './app/app.config';

// eslint-disable-next-line no-console -- a failed bootstrap has nowhere else to be reported
bootstrapApplication(App, appConfig).catch((error: unknown) => console.error(error));
