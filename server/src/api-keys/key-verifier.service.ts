import { Injectable } from '@nestjs/common';
import { hash as digest } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import type { Scope } from '../auth/scopes';
import { hashKey, parseKey } from './api-key-secret';
import { DISCONNECTED_TTL_MS, KeyInvalidationService } from './key-invalidation.service';
import { LastUsedTracker } from './last-used.tracker';

export type VerificationCode = 'VALID' | 'NOT_FOUND' | 'EXPIRED' | 'REVOKED' | 'NOT_YET_VALID' | 'MALFORMED';

/** What the hot path needs of a key row; times in epoch ms. */
export interface VerifiedKey {
  id: number;
  userId: string;
  name: string;
  scopes: Scope[];
  expiresAt: number | null;
  notBefore: number | null;
  revokedAt: number | null;
}

export interface Verification {
  code: VerificationCode;
  key?: VerifiedKey;
}

type CacheEntry = VerifiedKey | typeof NOT_FOUND;
const NOT_FOUND = { notFound: true } as const;
interface Cached {
  entry: CacheEntry;
  at: number;
  /** The stored HMAC (base64), as revocations and notifications name the key. */
  stored: string;
}

/**
 * Verifies API keys on every request: checksum (no I/O), keyed hash, then a bounded LRU cache,
 * then one indexed SELECT. Expiry and validity windows are checked against the clock on every
 * call, so a cached entry never outlives its key. Deletion evicts the entry at once.
 */
@Injectable()
export class KeyVerifier {
  private readonly cache?: LRUCache<string, Cached>;
  private readonly inflight = new Map<string, Promise<CacheEntry>>();
  /** Database lookups made (for tests and the benchmark). */
  lookups = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly lastUsed: LastUsedTracker,
    private readonly invalidation: KeyInvalidationService,
  ) {
    const { cacheMaxEntries, cacheTtlMs } = config.apiKeys;
    if (cacheMaxEntries > 0 && cacheTtlMs > 0) {
      this.cache = new LRUCache<string, Cached>({
        max: cacheMaxEntries,
        ttl: cacheTtlMs,
        // Keep the reverse index exactly as large as the cache.
        dispose: (value) => this.byStoredHash.delete(value.stored),
      });
    }
    invalidation.onEvict(
      (storedBase64) => this.evictStored(storedBase64),
      () => this.cache?.clear(),
    );
  }

  async verify(candidate: string, now = Date.now()): Promise<Verification> {
    const { prefix, hashSecret } = this.config.apiKeys;
    if (!parseKey(candidate, prefix).ok) return { code: 'MALFORMED' };
    return this.judge(await this.lookup(candidate, hashSecret), now);
  }

  /**
   * The answer from the cache alone, synchronously, or undefined when the database must be
   * asked. The guard's fast path: a key seen recently costs a checksum, a SHA-256 and a lookup.
   */
  verifyCached(candidate: string, now = Date.now()): Verification | undefined {
    if (!this.cache) return undefined;
    if (!parseKey(candidate, this.config.apiKeys.prefix).ok) return { code: 'MALFORMED' };
    const cached = this.cache.get(digest('sha256', candidate, 'base64'));
    if (!cached || !(this.invalidation.live || now - cached.at < DISCONNECTED_TTL_MS)) return undefined;
    return this.judge(cached.entry, now);
  }

  private judge(entry: CacheEntry, now: number): Verification {
    if (entry === NOT_FOUND) return { code: 'NOT_FOUND' };
    const key = entry as VerifiedKey;
    if (key.revokedAt !== null) return { code: 'REVOKED', key };
    if (key.notBefore !== null && now < key.notBefore) return { code: 'NOT_YET_VALID', key };
    if (key.expiresAt !== null && now >= key.expiresAt) return { code: 'EXPIRED', key };
    this.lastUsed.touch(key.id, now);
    return { code: 'VALID', key };
  }

  /** Drops a key from the cache, so its deletion counts from the very next request. */
  evict(hash: Buffer): void {
    this.evictStored(hash.toString('base64'));
  }

  private evictStored(storedBase64: string): void {
    const cacheKey = this.byStoredHash.get(storedBase64);
    if (cacheKey) this.cache?.delete(cacheKey);
  }

  /**
   * The cache is keyed by a plain SHA-256 of the key (0.3 µs; never the key itself, so a heap
   * dump shows no keys); the slower keyed HMAC is computed only on a miss, for the database.
   * `byStoredHash` maps the stored HMAC back, for evictions that only know the row.
   */
  private readonly byStoredHash = new Map<string, string>();

  private async lookup(candidate: string, hashSecret: string): Promise<CacheEntry> {
    const cacheKey = digest('sha256', candidate, 'base64');
    const cached = this.cache?.get(cacheKey);
    // Without the invalidation listener, another instance's revocation could go unseen: trust
    // a cached entry only briefly then.
    if (cached && (this.invalidation.live || Date.now() - cached.at < DISCONNECTED_TTL_MS)) return cached.entry;
    // Concurrent first requests with one key share one query.
    const stored = hashKey(candidate, hashSecret);
    let pending = this.inflight.get(cacheKey);
    if (!pending) {
      pending = this.load(stored).finally(() => this.inflight.delete(cacheKey));
      this.inflight.set(cacheKey, pending);
    }
    const entry = await pending;
    // Unknown keys are remembered briefly too: a flood of made-up keys with valid checksums
    // then costs one query per key, not one per request.
    if (this.cache) {
      const storedBase64 = stored.toString('base64');
      this.cache.set(cacheKey, { entry, at: Date.now(), stored: storedBase64 }, entry === NOT_FOUND ? { ttl: Math.min(5000, this.config.apiKeys.cacheTtlMs) } : undefined);
      this.byStoredHash.set(storedBase64, cacheKey);
    }
    return entry;
  }

  private async load(hash: Buffer): Promise<CacheEntry> {
    this.lookups++;
    const rows: Array<{ id: number; user_id: string; name: string; scopes: Scope[]; expires_at: Date | null; not_before: Date | null; revoked_at: Date | null }> =
      await this.dataSource.query(
        'SELECT id, user_id, name, scopes, expires_at, not_before, revoked_at FROM api_keys WHERE key_hash = $1',
        [hash],
      );
    const row = rows[0];
    if (!row) return NOT_FOUND;
    return {
      id: row.id,
      userId: row.user_id,
      name: row.name,
      scopes: row.scopes,
      expiresAt: row.expires_at ? row.expires_at.getTime() : null,
      notBefore: row.not_before ? row.not_before.getTime() : null,
      revokedAt: row.revoked_at ? row.revoked_at.getTime() : null,
    };
  }
}
