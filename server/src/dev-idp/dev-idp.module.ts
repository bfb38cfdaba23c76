import { Module } from '@nestjs/common';
import { DevIdpController } from './dev-idp.controller';
import { DevIdpService } from './dev-idp.service';
import { SignInThrottle } from './sign-in-throttle';

/** Imported only when no KEYCLOAK_URL is configured, and never in production. */
@Module({ controllers: [DevIdpController], providers: [DevIdpService, SignInThrottle] })
export class DevIdpModule {}
