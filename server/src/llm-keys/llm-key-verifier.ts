import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { hashKey } from '../api-keys/api-key-secret';
import { AppConfig } from '../config/app-config';
import { KeyInvalidationService } from '../api-keys/key-invalidation.service';

export interface VerifiedLlmKey {
  id: number;
  userId: string;
}

const NOT_FOUND = { notFound: true } as const;

/** Looks LLM keys up by keyed hash, with the same bounded cache as API keys. */
@Injectable()
export class LlmKeyVerifier {
  private readonly cache?: LRUCache<string, VerifiedLlmKey | typeof NOT_FOUND>;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    invalidation: KeyInvalidationService,
  ) {
    const { cacheMaxEntries, cacheTtlMs } = config.apiKeys;
    // Without the invalidation listener (another instance may have rotated), trust entries 1 s.
    const ttl = () => (invalidation.live ? cacheTtlMs : 1000);
    if (cacheMaxEntries > 0 && cacheTtlMs > 0) this.cache = new LRUCache({ max: cacheMaxEntries, ttl: cacheTtlMs });
    this.ttl = ttl;
    invalidation.onEvict(
      (hashBase64) => this.cache?.delete(hashBase64),
      () => this.cache?.clear(),
    );
  }

  private readonly ttl: () => number;

  hash(key: string): Buffer {
    return hashKey(key, this.config.apiKeys.hashSecret);
  }

  async find(key: string): Promise<VerifiedLlmKey | undefined> {
    const hash = this.hash(key);
    const cacheKey = hash.toString('base64');
    let entry = this.cache?.get(cacheKey);
    if (!entry) {
      const rows: Array<{ id: number; user_id: string }> = await this.dataSource.query('SELECT id, user_id FROM llm_keys WHERE key_hash = $1', [hash]);
      entry = rows[0] ? { id: rows[0].id, userId: rows[0].user_id } : NOT_FOUND;
      this.cache?.set(cacheKey, entry, { ttl: entry === NOT_FOUND ? Math.min(5000, this.ttl()) : this.ttl() });
    }
    return entry === NOT_FOUND ? undefined : (entry as VerifiedLlmKey);
  }

  evict(hash: Buffer): void {
    this.cache?.delete(hash.toString('base64'));
  }
}
