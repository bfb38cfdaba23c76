import { JwksClient, JwksError, JwksRateLimitError, SigningKeyNotFoundError } from 'jwks-rsa';
import { CredentialRejected } from '../../credentials/credential-rejected';
import type { CredentialRequest } from '../credential';

interface JoseHeader {
  alg?: unknown;
  kid?: unknown;
  typ?: unknown;
}

function decodeSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment || !/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * passport-jwt's `secretOrKeyProvider`: before any signature work, refuses what is not an
 * RS256 JWT from our issuer, each with its own typed reason, then finds the signing key in the
 * provider's JWKS (cached; fetched again for an unknown `kid`, rate limited by jwks-rsa).
 * passport-jwt then verifies signature and times with exactly these expectations.
 */
export function signingKeyProvider(options: { jwksUri: string; issuer: string }) {
  const client = new JwksClient({
    jwksUri: options.jwksUri,
    cache: true,
    cacheMaxEntries: 10,
    cacheMaxAge: 10 * 60 * 1000,
    rateLimit: true,
    jwksRequestsPerMinute: 10,
    timeout: 5000,
  });
  return (request: CredentialRequest, rawJwt: string, done: (error: unknown, key?: string) => void): void => {
    const [headerPart, payloadPart, signature, ...rest] = rawJwt.split('.');
    const header = decodeSegment(headerPart) as JoseHeader | undefined;
    const payload = decodeSegment(payloadPart);
    if (!header || !payload || signature === undefined || rest.length > 0) return done(new CredentialRejected('malformed_token'));
    if (header.alg !== 'RS256') return done(new CredentialRejected('unsupported_algorithm'));
    if (payload.iss !== options.issuer) return done(new CredentialRejected('wrong_issuer'));
    // For the strategy's claim checks, which run once the signature holds.
    if (typeof header.typ === 'string') request.jwtHeaderType = header.typ.toLowerCase();
    client.getSigningKey(typeof header.kid === 'string' ? header.kid : undefined).then(
      (key) => done(null, key.getPublicKey()),
      (error: unknown) => {
        if (error instanceof SigningKeyNotFoundError) return done(new CredentialRejected('unknown_signing_key'));
        if (error instanceof JwksError || error instanceof JwksRateLimitError)
          return done(new CredentialRejected('signing_keys_unavailable'));
        // Network failures fetching the key set: the provider is unreachable, not the token bad.
        done(new CredentialRejected('signing_keys_unavailable'));
      },
    );
  };
}
