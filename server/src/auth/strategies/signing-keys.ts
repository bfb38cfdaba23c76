import { Injectable, Logger } from '@nestjs/common';
import { createRemoteJWKSet, customFetch, errors as joseErrors, type JWTVerifyGetKey } from 'jose';
import { KeyObject } from 'node:crypto';
import { AppConfig } from '../../config/app-config';
import { CredentialRejected } from '../../credentials/credential-rejected';
import type { CredentialRequest } from '../credential';
import { decodeJwtSegment } from '../jwt-parts';

interface JoseHeader {
  alg?: unknown;
  kid?: unknown;
  typ?: unknown;
}

class KeySetUnavailable extends Error {}

/**
 * The identity provider's signing keys. Where they are comes from its discovery document
 * (`jwks_uri`), or `OIDC_JWKS_URI` when set; the key set is cached and fetched again when a
 * token names an unknown `kid`, at most once per `JWKS_COOLDOWN_SECONDS` (jose's cooldown):
 * made-up kids cannot use up a fetch budget, and a key the provider has just rotated in is
 * accepted within the cooldown at the latest. A failed fetch is logged once per URL and
 * status, and the discovery document is read again on the next attempt.
 */
@Injectable()
export class SigningKeys {
  private readonly logger = new Logger(SigningKeys.name);
  private keySet?: JWTVerifyGetKey;
  private resolving?: Promise<JWTVerifyGetKey>;
  private readonly reported = new Set<string>();

  constructor(private readonly config: AppConfig) {}

  /** passport-jwt's `secretOrKeyProvider`: checks before any signature work, then the key. */
  readonly provider = (request: CredentialRequest, rawJwt: string, done: (error: unknown, key?: KeyObject) => void): void => {
    const [headerPart, payloadPart, signature, ...rest] = rawJwt.split('.');
    const header = decodeJwtSegment(headerPart) as JoseHeader | undefined;
    const payload = decodeJwtSegment(payloadPart);
    if (!header || !payload || signature === undefined || rest.length > 0) return done(new CredentialRejected('malformed_token'));
    if (header.alg !== 'RS256') return done(new CredentialRejected('unsupported_algorithm'));
    if (payload.iss !== this.config.oidc.issuer) return done(new CredentialRejected('wrong_issuer'));
    // For the strategy's claim checks, which run once the signature holds.
    if (typeof header.typ === 'string') request.jwtHeaderType = header.typ.toLowerCase();
    this.key({ alg: 'RS256', ...(typeof header.kid === 'string' ? { kid: header.kid } : {}) }).then(
      (key) => done(null, key),
      (error: unknown) => done(error),
    );
  };

  private async key(header: { alg: string; kid?: string }): Promise<KeyObject> {
    let keys: JWTVerifyGetKey;
    try {
      keys = await this.keys();
    } catch {
      throw new CredentialRejected('signing_keys_unavailable');
    }
    try {
      const key = await keys(header, { payload: '', signature: '' });
      return key instanceof KeyObject ? key : KeyObject.from(key as CryptoKey);
    } catch (error) {
      if (error instanceof joseErrors.JWKSNoMatchingKey) throw new CredentialRejected('unknown_signing_key');
      // The key set could not be fetched: find out again where it lives next time.
      this.keySet = undefined;
      throw new CredentialRejected('signing_keys_unavailable');
    }
  }

  private keys(): Promise<JWTVerifyGetKey> {
    if (this.keySet) return Promise.resolve(this.keySet);
    this.resolving ??= this.locate()
      .then((uri) => {
        this.keySet = createRemoteJWKSet(new URL(uri), {
          cooldownDuration: this.config.oidc.jwksCooldownSeconds * 1000,
          cacheMaxAge: 10 * 60 * 1000,
          timeoutDuration: 5000,
          [customFetch]: (url, options) => this.fetchReporting(url, options),
        });
        return this.keySet;
      })
      .finally(() => (this.resolving = undefined));
    return this.resolving;
  }

  private async locate(): Promise<string> {
    if (this.config.oidc.jwksUri) return this.config.oidc.jwksUri;
    const url = `${this.config.oidc.issuer}/.well-known/openid-configuration`;
    const response = await this.fetchReporting(url, { signal: AbortSignal.timeout(5000) });
    const document = (await response.json().catch(() => ({}))) as { jwks_uri?: unknown };
    if (typeof document.jwks_uri !== 'string') {
      this.reportOnce(url, 'has no jwks_uri');
      throw new KeySetUnavailable(url);
    }
    return document.jwks_uri;
  }

  private async fetchReporting(url: string, options: RequestInit): Promise<Response> {
    try {
      const response = await fetch(url, options);
      if (!response.ok) {
        this.reportOnce(url, `answered HTTP ${response.status}`);
        throw new KeySetUnavailable(url);
      }
      return response;
    } catch (error) {
      if (!(error instanceof KeySetUnavailable)) this.reportOnce(url, `could not be reached (${(error as Error).message})`);
      throw error;
    }
  }

  private reportOnce(url: string, what: string): void {
    const line = `${url} ${what}`;
    if (this.reported.has(line)) return;
    this.reported.add(line);
    this.logger.warn(`The identity provider's signing keys are unavailable: ${line}; tokens cannot be verified until it answers.`);
  }
}
