import { Injectable } from '@nestjs/common';
import * as oidc from 'openid-client';
import { AppConfig } from '../../config/app-config';

export interface LoginTransaction {
  state: string;
  codeVerifier: string;
  nonce: string;
  returnTo: string;
}

export interface SessionTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
}

/**
 * The console's OpenID Connect client (authorization code + PKCE, server side), for Keycloak or
 * the embedded development provider alike. Discovery happens on first use and is kept.
 */
@Injectable()
export class OidcClientService {
  private configuration?: Promise<oidc.Configuration>;

  constructor(private readonly config: AppConfig) {}

  get redirectUri(): string {
    return `${this.config.publicUrl}/api/auth/callback`;
  }

  private discover(): Promise<oidc.Configuration> {
    if (!this.configuration) {
      const { issuer, clientId, clientSecret } = this.config.oidc;
      const insecure = issuer.startsWith('http:');
      this.configuration = oidc
        .discovery(new URL(issuer), clientId, clientSecret, clientSecret ? undefined : oidc.None(), {
          execute: insecure ? [oidc.allowInsecureRequests] : [],
          timeout: 5,
        })
        .catch((error: unknown) => {
          this.configuration = undefined;
          throw error;
        });
    }
    return this.configuration;
  }

  async beginLogin(returnTo: string): Promise<{ url: string; transaction: LoginTransaction }> {
    const configuration = await this.discover();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const transaction: LoginTransaction = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier, returnTo };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: this.redirectUri,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state: transaction.state,
      nonce: transaction.nonce,
    });
    return { url: url.href, transaction };
  }

  async finishLogin(callbackUrl: URL, transaction: LoginTransaction): Promise<SessionTokens> {
    const configuration = await this.discover();
    const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
      pkceCodeVerifier: transaction.codeVerifier,
      expectedState: transaction.state,
      expectedNonce: transaction.nonce,
      idTokenExpected: true,
    });
    return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token, idToken: tokens.id_token };
  }

  async refresh(refreshToken: string): Promise<SessionTokens> {
    const configuration = await this.discover();
    const tokens = await oidc.refreshTokenGrant(configuration, refreshToken);
    return { accessToken: tokens.access_token, refreshToken: tokens.refresh_token ?? refreshToken, idToken: tokens.id_token };
  }

  /**
   * Revokes a refresh token at the provider (RFC 7009), when it publishes a
   * `revocation_endpoint`; true when it did. Keycloak ends the whole session with it.
   */
  async revoke(refreshToken: string): Promise<boolean> {
    const configuration = await this.discover();
    if (!configuration.serverMetadata().revocation_endpoint) return false;
    await oidc.tokenRevocation(configuration, refreshToken, { token_type_hint: 'refresh_token' });
    return true;
  }

  async logoutUrl(idToken: string | undefined): Promise<string> {
    return (await this.endSessionUrl(idToken)) ?? `${this.config.publicUrl}/`;
  }

  /** Where to send the browser to end its session at the provider; undefined if it has no logout endpoint. */
  async endSessionUrl(idToken: string | undefined): Promise<string | undefined> {
    const configuration = await this.discover();
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    return oidc.buildEndSessionUrl(configuration, {
      post_logout_redirect_uri: `${this.config.publicUrl}/`,
      client_id: this.config.oidc.clientId,
      ...(idToken ? { id_token_hint: idToken } : {}),
    }).href;
  }
}
