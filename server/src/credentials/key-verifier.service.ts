import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiKeysRepository } from '../database/repositories/api-keys.repository';
import { LlmKeysRepository } from '../database/repositories/llm-keys.repository';
import { hashKey, hasKeyShape, parseKey } from './key-format';
import { LastUsedTracker } from './last-used.tracker';
import type { Scope } from './scopes';
import { VerificationCache } from './verification-cache';
import { Metrics } from '../metrics/metrics';

export type VerificationCode = 'VALID' | 'NOT_FOUND' | 'EXPIRED' | 'ROTATED' | 'REVOKED' | 'NOT_YET_VALID' | 'MALFORMED';

/** What the hot path needs of an API key row; times in epoch ms. */
export interface VerifiedKey {
  id: number;
  userId: string;
  name: string;
  scopes: Scope[];
  expiresAt: number | null;
  notBefore: number | null;
  revokedAt: number | null;
  /** When the key was replaced by rotation; it works until `expiresAt`, then is ROTATED. */
  rotatedAt: number | null;
  /** Requests a minute, or null for no per-key limit. */
  rateLimitPerMinute: number | null;
}

export interface VerifiedLlmKey {
  id: number;
  userId: string;
}

export interface Verification {
  code: VerificationCode;
  key?: VerifiedKey;
}

/** A gateway's question "is this any key of ours?", answered for both kinds. */
export type AnyKeyVerification =
  | { kind: 'api_key'; code: VerificationCode; key?: VerifiedKey }
  | { kind: 'llm_key'; code: 'VALID'; key: VerifiedLlmKey }
  | { kind: null; code: 'NOT_FOUND' | 'MALFORMED' };

/**
 * Verifies keys on every request: checksum (no I/O), then the verification cache, then one
 * indexed SELECT by keyed hash. Expiry and validity windows are judged against the clock on
 * every call, so a cached entry never outlives its key.
 */
@Injectable()
export class KeyVerifier {
  constructor(
    private readonly config: AppConfig,
    private readonly cache: VerificationCache,
    private readonly apiKeys: ApiKeysRepository,
    private readonly llmKeys: LlmKeysRepository,
    private readonly lastUsed: LastUsedTracker,
    private readonly metrics: Metrics,
  ) {}

  /** The keyed hash stored for a key (API key or LLM key). */
  hash(key: string): Buffer {
    return hashKey(key, this.config.apiKeys.hashSecret);
  }

  async verify(candidate: string, now = Date.now()): Promise<Verification> {
    if (!parseKey(candidate, this.config.apiKeys.prefix).ok) return { code: 'MALFORMED' };
    let loaded = false;
    const key = await this.cache.resolve(
      candidate,
      'api_key',
      () => this.hash(candidate),
      (stored) => {
        loaded = true;
        return this.loadApiKey(stored);
      },
    );
    if (loaded) this.metrics.cacheMiss.inc();
    else this.metrics.cacheHit();
    const verification = this.judge(key, now);
    // Refusals of a known key count against it here only: the cached path falls through to this one.
    if (verification.code !== 'VALID' && verification.key) this.lastUsed.countFailure(verification.key.id, now);
    return verification;
  }

  /**
   * The answer from the cache alone, synchronously, or undefined when the database must be
   * asked. The guard's fast path: a key seen recently costs a shape check, a SHA-256 and a
   * lookup. The checksum is not computed here: a hit means the candidate is, byte for byte, a
   * key that passed it before (only `verify` caches API keys, after `parseKey`), and a miss
   * goes on to `verify`, which checks it. LLM keys share the cache but never answer here (their
   * entries are of the other kind).
   */
  verifyCached(candidate: string, now = Date.now()): Verification | undefined {
    if (!hasKeyShape(candidate, this.config.apiKeys.prefix)) return { code: 'MALFORMED' };
    const hit = this.cache.peek<VerifiedKey>(candidate, 'api_key', now);
    if (!hit) return undefined;
    this.metrics.cacheHit();
    return this.judge(hit.value, now);
  }

  async findLlmKey(candidate: string): Promise<VerifiedLlmKey | undefined> {
    return this.cache.resolve(
      candidate,
      'llm_key',
      () => this.hash(candidate),
      (stored) => this.llmKeys.findOwnerByHash(stored),
    );
  }

  /** Routes a key by its shape: our API keys, our LLM keys (checksummed), or a gateway's LLM key. */
  async verifyAny(candidate: string): Promise<AnyKeyVerification> {
    const apiPrefix = this.config.apiKeys.prefix;
    const llmPrefix = this.config.llmKeys.prefix;
    if (candidate.startsWith(apiPrefix) && !candidate.startsWith(llmPrefix)) return { kind: 'api_key', ...(await this.verify(candidate)) };
    // Our own LLM keys carry a checksum: refuse typos offline. LiteLLM's keys have no known shape.
    if (candidate.startsWith(llmPrefix) ? !parseKey(candidate, llmPrefix).ok : candidate.length < 8)
      return { kind: null, code: 'MALFORMED' };
    const llm = await this.findLlmKey(candidate);
    return llm ? { kind: 'llm_key', code: 'VALID', key: llm } : { kind: null, code: 'NOT_FOUND' };
  }

  private judge(key: VerifiedKey | undefined, now: number): Verification {
    if (!key) return { code: 'NOT_FOUND' };
    if (key.revokedAt !== null) return { code: 'REVOKED', key };
    if (key.notBefore !== null && now < key.notBefore) return { code: 'NOT_YET_VALID', key };
    if (key.expiresAt !== null && now >= key.expiresAt) return { code: key.rotatedAt !== null ? 'ROTATED' : 'EXPIRED', key };
    this.lastUsed.touch(key.id, now);
    return { code: 'VALID', key };
  }

  private async loadApiKey(stored: Buffer): Promise<VerifiedKey | undefined> {
    const row = await this.apiKeys.findByHash(stored);
    if (!row) return undefined;
    return {
      id: row.id,
      userId: row.userId,
      name: row.name,
      scopes: row.scopes as Scope[],
      expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
      notBefore: row.notBefore ? row.notBefore.getTime() : null,
      revokedAt: row.revokedAt ? row.revokedAt.getTime() : null,
      rotatedAt: row.rotatedAt ? row.rotatedAt.getTime() : null,
      rateLimitPerMinute: row.rateLimitPerMinute,
    };
  }
}
