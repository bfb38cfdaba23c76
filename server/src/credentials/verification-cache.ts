import { Injectable } from '@nestjs/common';
import { hash as digest } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AppConfig } from '../config/app-config';
import { DISCONNECTED_TTL_MS, KeyInvalidationService } from './key-invalidation.service';

/** How long an unknown key is remembered, so a flood of made-up keys costs one query each. */
const NOT_FOUND_TTL_MS = 5000;

/** Which question an entry answers: an API key's row or an LLM key's owner. */
export type CachedKind = 'api_key' | 'llm_key';

interface Entry<T> {
  kind: CachedKind;
  value: T | undefined;
  at: number;
  /** The stored keyed hash (base64), as revocations and notifications name the key. */
  stored: string;
}

/**
 * The one verification cache, for API keys and LLM keys alike. Entries are keyed by a plain
 * SHA-256 of the secret (0.3 µs; never the secret itself, so a heap dump shows no keys); the
 * slower keyed HMAC is computed only on a miss, for the database. A reverse index from the
 * stored hash serves evictions, which only know the row. Concurrent misses for one secret share
 * one lookup. Without the invalidation listener (another instance may have revoked a key),
 * entries are trusted for 1 s only.
 */
@Injectable()
export class VerificationCache {
  private readonly cache?: LRUCache<string, Entry<unknown>>;
  private readonly byStored = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<unknown>>();
  /**
   * Bumped by every eviction: a lookup that started before one must not cache what it read,
   * since it may have read the row before the revocation committed.
   */
  private generation = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly invalidation: KeyInvalidationService,
  ) {
    const { cacheMaxEntries, cacheTtlMs } = config.apiKeys;
    if (cacheMaxEntries > 0 && cacheTtlMs > 0) {
      this.cache = new LRUCache<string, Entry<unknown>>({
        max: cacheMaxEntries,
        ttl: cacheTtlMs,
        // lru-cache reads the clock at most this often (ms), arming a timer each time: at the
        // default 1 ms, a busy instance armed a thousand timers a second on the hot path. TTLs
        // here are seconds long; revocations do not wait for them (they evict).
        ttlResolution: 50,
        // Keep the reverse index exactly as large as the cache.
        dispose: (entry) => this.byStored.delete(entry.stored),
      });
    }
    invalidation.onEvict(
      (storedBase64) => this.evictStored(storedBase64),
      () => this.clear(),
    );
  }

  /**
   * The cached answer for `secret`, synchronously: `{ value }` (undefined value = known not to
   * exist) or undefined when the database must be asked.
   */
  peek<T>(secret: string, kind: CachedKind, now = Date.now()): { value: T | undefined } | undefined {
    const entry = this.cache?.get(digest('sha256', secret, 'base64'));
    if (!entry || entry.kind !== kind || !(this.invalidation.live || now - entry.at < DISCONNECTED_TTL_MS)) return undefined;
    return { value: entry.value as T | undefined };
  }

  /** The cached answer, or `load(storedHash)`'s, remembered; one load per secret at a time. */
  async resolve<T>(
    secret: string,
    kind: CachedKind,
    storedHash: () => Buffer,
    load: (stored: Buffer) => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const hit = this.peek<T>(secret, kind);
    if (hit) return hit.value;
    const cacheKey = digest('sha256', secret, 'base64');
    const inflightKey = `${kind}:${cacheKey}`;
    let pending = this.inflight.get(inflightKey) as Promise<T | undefined> | undefined;
    if (!pending) {
      const stored = storedHash();
      const generation = this.generation;
      pending = load(stored)
        .then((value) => {
          if (this.cache && generation === this.generation) this.remember(cacheKey, kind, stored.toString('base64'), value);
          return value;
        })
        .finally(() => this.inflight.delete(inflightKey));
      this.inflight.set(inflightKey, pending);
    }
    return pending;
  }

  /** Drops a key by its stored hash, so its revocation counts from the very next request. */
  evict(storedHash: Buffer): void {
    this.evictStored(storedHash.toString('base64'));
  }

  private remember(cacheKey: string, kind: CachedKind, stored: string, value: unknown): void {
    const ttl = value === undefined ? Math.min(NOT_FOUND_TTL_MS, this.config.apiKeys.cacheTtlMs) : undefined;
    this.cache!.set(cacheKey, { kind, value, at: Date.now(), stored }, ttl ? { ttl } : undefined);
    this.byStored.set(stored, cacheKey);
  }

  private evictStored(storedBase64: string): void {
    this.generation++;
    const cacheKey = this.byStored.get(storedBase64);
    if (cacheKey) this.cache?.delete(cacheKey);
  }

  private clear(): void {
    this.generation++;
    this.cache?.clear();
  }
}
