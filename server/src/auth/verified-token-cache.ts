import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../config/app-config';
import { KeyInvalidationService } from '../credentials/key-invalidation.service';
import type { Principal } from '../credentials/principal';

/**
 * Remembers access tokens that passed full verification (signature, issuer, audience, type)
 * until their own `exp`, so a client repeating its token costs a SHA-256 and a map lookup
 * instead of an RSA verification. A JWT is immutable, so the cached answer cannot go stale
 * before `exp`, except by a sign-out, which evicts it here and, through the invalidation
 * channel, on every instance. Tokens are keyed by digest, never stored.
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, { principal: Principal; expiresAtMs: number }>;

  /** Bumped by every eviction: a verification that started before one must not be remembered. */
  private evictions = 0;

  constructor(
    private readonly config: AppConfig,
    invalidation: KeyInvalidationService,
  ) {
    this.cache = new LRUCache({ max: Math.max(1, config.apiKeys.cacheMaxEntries) });
    invalidation.onEvict(
      (digestBase64) => {
        this.evictions++;
        this.cache.delete(digestBase64);
      },
      () => {
        this.evictions++;
        this.cache.clear();
      },
    );
  }

  /** Pass to `remember` what this answered before the verification started. */
  get generation(): number {
    return this.evictions;
  }

  get enabled(): boolean {
    return this.config.apiKeys.cacheMaxEntries > 0;
  }

  get(token: string, authType: Principal['authType']): Principal | undefined {
    if (!this.enabled) return undefined;
    const hit = this.cache.get(hash('sha256', token, 'base64'));
    if (!hit) return undefined;
    if (Date.now() >= hit.expiresAtMs) return undefined;
    return hit.principal.authType === authType ? hit.principal : { ...hit.principal, authType };
  }

  remember(token: string, principal: Principal, generation: number): void {
    if (!this.enabled || generation !== this.evictions) return;
    const exp = jwtExp(token);
    if (exp === undefined) return;
    // The same leeway verification allowed, so a cached token lapses exactly when a fresh check would fail.
    const expiresAtMs = (exp + this.config.oidc.clockToleranceSeconds) * 1000;
    if (expiresAtMs > Date.now()) this.cache.set(hash('sha256', token, 'base64'), { principal, expiresAtMs });
  }
}

/** A JWT's `exp`, read without verification (callers verify, or only use it to plan ahead). */
export function jwtExp(jwt: string): number | undefined {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof payload.exp === 'number' ? payload.exp : undefined;
  } catch {
    return undefined;
  }
}
