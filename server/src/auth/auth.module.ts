import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { CredentialsModule } from '../credentials/credentials.module';
import { DatabaseModule } from '../database/database.module';
import { AuthFailureAudit } from './auth-failure-audit';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { CompositeAuthGuard } from './composite-auth.guard';
import { AuthController } from './session/auth.controller';
import { OidcClientService } from './session/oidc-client.service';
import { EndedSessions } from './session/ended-sessions.service';
import { SessionService } from './session/session.service';
import { ApiKeyStrategy } from './strategies/api-key.strategy';
import { KeycloakCookieStrategy, KeycloakJwtStrategy } from './strategies/keycloak-jwt.strategy';
import { McpHeaderStrategy } from './strategies/mcp-header.strategy';
import { SigningKeys } from './strategies/signing-keys';
import { VerifiedTokenCache } from './verified-token-cache';

@Module({
  imports: [PassportModule, DatabaseModule, CredentialsModule],
  controllers: [AuthController],
  providers: [
    ApiKeyStrategy,
    KeycloakJwtStrategy,
    KeycloakCookieStrategy,
    SigningKeys,
    McpHeaderStrategy,
    AuthFailureLimiter,
    AuthFailureAudit,
    OidcClientService,
    SessionService,
    EndedSessions,
    VerifiedTokenCache,
    // Deny by default: every route needs a credential unless it says @Public().
    CompositeAuthGuard,
    { provide: APP_GUARD, useExisting: CompositeAuthGuard },
  ],
  exports: [AuthFailureLimiter],
})
export class AuthModule {}
