import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { KeyPolicyRepository, type StoredKeyPolicy } from '../database/repositories/key-policy.repository';
import { KeyInvalidationService } from './key-invalidation.service';
import { ALL_SCOPES, OPT_IN_SCOPES, type Scope } from './scopes';

/** The organisation's rules for API keys (issue 14): what creating and rotating a key must obey. */
export interface KeyPolicy {
  maxLifetimeDays: number;
  expiryRequired: boolean;
  maxKeysPerUser: number;
  /** The scopes a new key may hold. */
  allowedScopes: Scope[];
  /** What a new key gets when its request names no scopes: never an opt-in scope. */
  defaultScopes: Scope[];
  expiryWarningDays: number;
  /** Null while the environment's defaults apply (no admin has stored a policy). */
  updatedAt: Date | null;
  updatedBy: string | null;
}

/** While the LISTEN connection is down, the cached policy is trusted this long at most. */
const DISCONNECTED_TTL_MS = 1000;

const known = (scopes: string[]): Scope[] => ALL_SCOPES.filter((s) => scopes.includes(s));

/**
 * The effective key policy: the stored one (`key_policy`), or the environment's defaults until an
 * admin stores one. Creating and rotating a key read it inside their own transaction (always
 * current); everything else (list statuses, `Sunset` headers, the metrics gauges) reads this
 * instance's copy, which a change on any instance refreshes at once through LISTEN/NOTIFY
 * (`key_policy`), which is re-read whenever the listener (re)connects, and which, while the
 * listener is down, is re-read when older than 1 s. On the embedded database (one instance) a
 * change applies to the copy as soon as it commits.
 */
@Injectable()
export class KeyPolicyService implements OnApplicationBootstrap {
  private readonly logger = new Logger(KeyPolicyService.name);
  private cached: KeyPolicy;
  private readAt = 0;
  private reloading?: Promise<void>;
  /** Bumped by every reload request: a read that started before a newer request does not win. */
  private generation = 0;

  constructor(
    private readonly config: AppConfig,
    private readonly repository: KeyPolicyRepository,
    private readonly invalidation: KeyInvalidationService,
  ) {
    this.cached = this.defaults();
    invalidation.onPolicyChange(() => void this.reload());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.reload();
  }

  /** The environment's policy (API_KEY_MAX_LIFETIME_DAYS, API_KEY_EXPIRY_REQUIRED, …). */
  defaults(): KeyPolicy {
    const env = this.config.apiKeys;
    const allowed = env.allowedScopes.length > 0 ? known(env.allowedScopes) : [...ALL_SCOPES];
    const defaults = env.defaultScopes.length > 0 ? known(env.defaultScopes) : allowed.filter((s) => !OPT_IN_SCOPES.includes(s));
    return {
      maxLifetimeDays: env.maxLifetimeDays,
      expiryRequired: env.expiryRequired,
      maxKeysPerUser: env.maxPerUser,
      allowedScopes: allowed,
      defaultScopes: defaults,
      expiryWarningDays: this.config.operations.expiryWarningDays,
      updatedAt: null,
      updatedBy: null,
    };
  }

  /** This instance's copy (no I/O: the hot path reads it). */
  current(): KeyPolicy {
    if (!this.invalidation.live && !this.reloading && Date.now() - this.readAt > DISCONNECTED_TTL_MS) void this.reload();
    return this.cached;
  }

  /** The policy as stored now, inside the caller's transaction (creates and rotations). */
  async read(tx: EntityManager | DataSource): Promise<KeyPolicy> {
    const stored = await this.repository.read(tx);
    return stored ? this.effective(stored) : this.defaults();
  }

  /** After a change committed on this instance: use it at once (the others hear NOTIFY). */
  applied(policy: KeyPolicy): void {
    this.generation++;
    this.cached = policy;
    this.readAt = Date.now();
  }

  effective(stored: StoredKeyPolicy): KeyPolicy {
    return {
      maxLifetimeDays: stored.maxLifetimeDays,
      expiryRequired: stored.expiryRequired,
      maxKeysPerUser: stored.maxKeysPerUser,
      allowedScopes: known(stored.allowedScopes),
      defaultScopes: known(stored.defaultScopes).filter((s) => !OPT_IN_SCOPES.includes(s)),
      expiryWarningDays: stored.expiryWarningDays,
      updatedAt: stored.updatedAt,
      updatedBy: stored.updatedBy,
    };
  }

  /** Re-reads the stored policy; concurrent requests share one read, and a request during a read starts another after it. */
  reload(): Promise<void> {
    const generation = ++this.generation;
    const run = async (): Promise<void> => {
      try {
        const stored = await this.repository.read();
        if (generation !== this.generation) return;
        this.cached = stored ? this.effective(stored) : this.defaults();
        this.readAt = Date.now();
      } catch (error) {
        this.logger.warn(`cannot read the key policy (${(error as Error).message}); keeping the previous one`);
      }
    };
    const previous = this.reloading ?? Promise.resolve();
    const next = previous.then(run);
    this.reloading = next.finally(() => {
      if (this.reloading === tail) this.reloading = undefined;
    });
    const tail = this.reloading;
    return next;
  }
}
