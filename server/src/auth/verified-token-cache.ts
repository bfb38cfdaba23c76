import { Injectable } from '@nestjs/common';
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../config/app-config';
import { KeyInvalidationService } from '../credentials/key-invalidation.service';
import type { Principal } from '../credentials/principal';
import { unverifiedClaims } from './jwt-parts';

/**
 * Remembers access tokens that passed full verification (signature, issuer, audience, type)
 * until their own `exp`, so a client repeating its token costs a SHA-256 and a map lookup
 * instead of an RSA verification. A JWT is immutable, so the cached answer cannot go stale
 * before `exp`, except by a sign-out, which evicts every token of the ended session here and,
 * through the invalidation channel, on every instance. Tokens are keyed by digest, never stored.
 */
@Injectable()
export class VerifiedTokenCache {
  private readonly cache: LRUCache<string, { principal: Principal; expiresAtMs: number; marks: string[] }>;
  /** Session mark (base64) → the cached tokens carrying it, so a sign-out evicts them all. */
  private readonly byMark = new Map<string, Set<string>>();
  /** Marks of sessions ended recently (as announced), so no cached token serves them either. */
  private readonly endedMarks = new LRUCache<string, true>({ max: 100_000, ttl: 12 * 3600 * 1000 });

  /** Bumped by every eviction: a verification that started before one must not be remembered. */
  private evictions = 0;

  constructor(
    private readonly config: AppConfig,
    invalidation: KeyInvalidationService,
  ) {
    this.cache = new LRUCache({
      max: Math.max(1, config.apiKeys.cacheMaxEntries),
      // Keep the mark index exactly as large as the cache.
      dispose: (entry, key) => {
        for (const mark of entry.marks) {
          const keys = this.byMark.get(mark);
          keys?.delete(key);
          if (keys?.size === 0) this.byMark.delete(mark);
        }
      },
    });
    invalidation.onEvict(
      (markBase64) => {
        this.evictions++;
        this.endedMarks.set(markBase64, true);
        for (const key of [...(this.byMark.get(markBase64) ?? [])]) this.cache.delete(key);
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

  /** `sessionMark`: for a cookie, its service session's mark (base64), refused once ended. */
  get(token: string, authType: Principal['authType'], sessionMark?: string): Principal | undefined {
    if (!this.enabled || (sessionMark !== undefined && this.endedMarks.has(sessionMark))) return undefined;
    const hit = this.cache.get(hash('sha256', token, 'base64'));
    if (!hit) return undefined;
    if (Date.now() >= hit.expiresAtMs) return undefined;
    return hit.principal.authType === authType ? hit.principal : { ...hit.principal, authType };
  }

  /** `marks`: the token's session marks (session-marks.ts), by which a sign-out evicts it. */
  remember(token: string, principal: Principal, generation: number, marks: Buffer[]): void {
    if (!this.enabled || generation !== this.evictions) return;
    const exp = jwtExp(token);
    if (exp === undefined) return;
    // The same leeway verification allowed, so a cached token lapses exactly when a fresh check would fail.
    const expiresAtMs = (exp + this.config.oidc.clockToleranceSeconds) * 1000;
    if (expiresAtMs <= Date.now()) return;
    const key = hash('sha256', token, 'base64');
    const markKeys = marks.map((mark) => mark.toString('base64'));
    this.cache.set(key, { principal, expiresAtMs, marks: markKeys });
    for (const mark of markKeys) {
      let keys = this.byMark.get(mark);
      if (!keys) this.byMark.set(mark, (keys = new Set()));
      keys.add(key);
    }
  }
}

/** A JWT's `exp`, read without verification (callers verify, or only use it to plan ahead). */
export function jwtExp(jwt: string): number | undefined {
  const exp = unverifiedClaims(jwt).exp;
  return typeof exp === 'number' ? exp : undefined;
}
