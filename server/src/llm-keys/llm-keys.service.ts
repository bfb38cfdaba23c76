import { AuditEventsRepository, type AuditActor, type AuditEvent } from '../database/repositories/audit-events.repository';
import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { KeyedMutex } from '../common/keyed-mutex';
import { deriveKey, seal, unseal } from '../common/sealed';
import { AppConfig } from '../config/app-config';
import { KeyInvalidationService } from '../credentials/key-invalidation.service';
import { generateKey } from '../credentials/key-format';
import { KeyVerifier } from '../credentials/key-verifier.service';
import { LlmKeysRepository, StoredLlmKey } from '../database/repositories/llm-keys.repository';
import { LiteLlmClient } from './litellm.client';

/**
 * The BYOR LLM key: one per user, provisioned on first use at the LiteLLM proxy (or issued here
 * when none is configured), checked against the proxy before it is handed out, rotated on
 * demand. Provisioning and rotation hold a per-user advisory lock, so concurrent first calls —
 * on any instance — end with one key.
 */
@Injectable()
export class LlmKeysService {
  private readonly sealKey: Buffer;
  /** The embedded database: a single instance, so an in-process lock is enough. */
  private readonly singleInstance: boolean;
  private readonly inProcess = new KeyedMutex();
  /** Leaked keys this instance is handling now: a concurrent report of one is told to come back. */
  private readonly leaksInFlight = new Set<string>();

  constructor(
    private readonly keys: LlmKeysRepository,
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly gateway: LiteLlmClient,
    private readonly verifier: KeyVerifier,
    private readonly invalidation: KeyInvalidationService,
    private readonly audit: AuditEventsRepository,
  ) {
    this.sealKey = deriveKey(config.llmKeys.encryptionKey, 'llm-keys');
    this.singleInstance = !config.database.url;
  }

  async get(userId: string, actor: AuditActor = { userId }): Promise<string> {
    const row = await this.keys.findByUser(userId);
    if (!row)
      return this.withUserLock(userId, async (existing, commit) =>
        existing ? { key: this.open(existing) } : this.issue(commit, userId, null, actor),
      );
    const key = this.open(row);
    // No longer accepted by the proxy (deleted there, expired, proxy reset), or reported leaked
    // (dead here already, see `revokeLeaked`; asked after the proxy's answer, so a report that
    // committed meanwhile counts): replace it, unless it was replaced meanwhile by a key that
    // is not leaked itself (a refresh, another fetch): then that one is the answer.
    const rejected = row.source === 'litellm' && this.gateway.enabled && (await this.gateway.check(key)) === 'invalid';
    if (!rejected && !(await this.keys.wasRetired(row.keyHash))) return key;
    return this.withUserLock(userId, async (existing, commit, isRetired) => {
      if (!existing) return this.issue(commit, userId, null, actor);
      const leaked = await isRetired(existing.keyHash);
      if (!leaked && !existing.keyHash.equals(row.keyHash)) return { key: this.open(existing) };
      return this.issue(commit, userId, existing, actor, leaked ? { leaked: true } : { oldAlreadyInvalid: true });
    });
  }

  refresh(userId: string, actor: AuditActor = { userId }): Promise<string> {
    return this.withUserLock(userId, (existing, commit) => this.issue(commit, userId, existing, actor));
  }

  /**
   * A leaked key (a secret-scanning report) killed at once, in this order:
   * 1. its keyed hash is recorded as retired, with the `llm_key.leaked` event, and every
   *    instance drops it: from that commit on it verifies nowhere here;
   * 2. it is deleted at the proxy (a repeated report repeats this until it succeeds; a key the
   *    proxy no longer knows counts as deleted).
   * The row keeps the dead key until its owner's next fetch, which replaces it on the usual,
   * locked and authenticated path. So a public report never creates a key, takes no user lock
   * and holds no pooled connection while the proxy answers, and a refresh or fetch running at
   * the same time cannot be undone by it.
   * `unknown`: this was never a user's key. `busy`: this instance is
   * handling the same key for another report; the reporter comes back (`llm_key_busy`).
   * `gateway_pending`: retired here, but `mayCallGateway` was false (the proxy failed earlier in
   * the same report), so the proxy still knows it; the reporter comes back.
   * Gateway trouble is thrown (`llm_gateway_*`) after step 1, which stays done.
   */
  async revokeLeaked(
    leaked: string,
    actor: AuditActor,
    details: Record<string, unknown>,
    mayCallGateway: boolean,
  ): Promise<'revoked' | 'unknown' | 'busy' | 'gateway_pending'> {
    const leakedHash = this.verifier.hash(leaked);
    const inFlight = leakedHash.toString('base64');
    if (this.leaksInFlight.has(inFlight)) return 'busy';
    this.leaksInFlight.add(inFlight);
    try {
      const row = await this.keys.findByHash(leakedHash);
      if (row) {
        const firstReport = await this.dataSource.transaction(async (tx) => {
          if (!(await this.keys.markLeaked(tx, row))) return false;
          await this.audit.record(tx, {
            type: 'llm_key.leaked',
            actor,
            subject: { userId: row.userId },
            details: { ...details, reason: 'leak' },
          });
          await this.invalidation.publish(tx, [leakedHash]);
          return true;
        });
        if (firstReport) this.invalidation.evictLocally([leakedHash]);
      } else if (!(await this.keys.wasRetired(leakedHash))) return 'unknown';
      // Not stored any more: replaced already (by its owner, a fetch, or after an earlier
      // report). The replacement should have deleted it at the proxy, but one that found it
      // refused there carried on without; deleting again costs a call and is sure (the keyed
      // hash proves it was ours).
      const atProxy = this.gateway.enabled && (row === null || row.source === 'litellm');
      if (!atProxy) return 'revoked';
      if (!mayCallGateway) return 'gateway_pending';
      await this.gateway.delete(leaked);
      return 'revoked';
    } finally {
      this.leaksInFlight.delete(inFlight);
    }
  }

  private open(row: StoredLlmKey): string {
    const key = unseal(row.keyCiphertext, this.sealKey);
    // Only a changed LLM_KEY_ENCRYPTION_KEY or an altered row gets here.
    if (key === undefined) throw new Error(`LLM key ${row.id} cannot be decrypted with the configured LLM_KEY_ENCRYPTION_KEY`);
    return key;
  }

  /**
   * Runs `work` under the user's lock and evicts the key it replaced from this instance's cache
   * once committed (the others evict it on the NOTIFY). With a PostgreSQL server the lock is an
   * advisory lock held by one transaction around the whole work, so instances exclude each
   * other. On the embedded database (one instance, one connection) the lock is in-process and
   * only the writes take the connection: a slow LiteLLM proxy must not hold up everyone else.
   */
  private async withUserLock(
    userId: string,
    work: (existing: StoredLlmKey | null, commit: Commit, isRetired: (hash: Buffer) => Promise<boolean>) => Promise<Issued>,
  ): Promise<string> {
    let issued: Issued;
    if (this.singleInstance) {
      issued = await this.inProcess.run(userId, async () =>
        work(
          await this.keys.findByUser(userId),
          (writes) => this.dataSource.transaction(writes),
          (hash) => this.keys.wasRetired(hash),
        ),
      );
    } else {
      issued = await this.dataSource.transaction(async (tx) => {
        await this.keys.lockUser(tx, userId);
        // Reads on the lock's own connection: a second one per waiting fetch could drain the pool.
        return work(
          await this.keys.findByUser(userId, tx),
          (writes) => writes(tx),
          (hash) => this.keys.wasRetired(hash, tx),
        );
      });
    }
    if (issued.replacedHash) this.invalidation.evictLocally([issued.replacedHash]);
    return issued.key;
  }

  /** Creates a key (at the proxy or here), stores it encrypted, and retires the previous one. */
  private async issue(
    commit: Commit,
    userId: string,
    previous: StoredLlmKey | null,
    actor: AuditActor,
    options: { oldAlreadyInvalid?: boolean; leaked?: boolean } = {},
  ): Promise<Issued> {
    const useGateway = this.gateway.enabled;
    const deleteOld = previous?.source === 'litellm' && useGateway;
    // A leaked key goes first (a key the proxy no longer knows counts as deleted): if the proxy
    // fails after that, no new key is left at the proxy that nothing here knows of.
    if (deleteOld && options.leaked) await this.gateway.delete(this.open(previous));
    const key = useGateway ? await this.gateway.generate(userId) : generateKey(this.config.llmKeys.prefix);
    if (deleteOld && !options.leaked) {
      const old = this.open(previous);
      try {
        // The old key must stop working at once: delete it before handing out the new one.
        await this.gateway.delete(old);
      } catch (error) {
        if (!options.oldAlreadyInvalid) {
          if (useGateway) await this.gateway.delete(key).catch(() => undefined);
          throw error;
        }
      }
    }
    const hash = this.verifier.hash(key);
    const values = {
      keyCiphertext: seal(key, this.sealKey),
      keyHash: hash,
      keyHint: `${key.slice(0, 6)}…${key.slice(-4)}`,
      source: useGateway ? ('litellm' as const) : ('embedded' as const),
    };
    // The event is written with the change, in its transaction (never the key or its hint).
    const event = (type: 'llm_key.provisioned' | 'llm_key.refreshed'): AuditEvent => ({
      type,
      actor,
      subject: { userId },
      details: {
        source: values.source,
        ...(options.oldAlreadyInvalid ? { reason: 'rejected_by_gateway' } : options.leaked ? { reason: 'leak' } : {}),
      },
    });
    if (!previous) {
      await commit(async (tx) => {
        await this.keys.insert(tx, userId, values);
        await this.audit.record(tx, event('llm_key.provisioned'));
      });
      return { key };
    }
    await commit(async (tx) => {
      await this.keys.replace(tx, previous, values);
      await this.audit.record(tx, event('llm_key.refreshed'));
      // Every instance drops the old key when this transaction commits.
      await this.invalidation.publish(tx, [previous.keyHash]);
    });
    return { key, replacedHash: previous.keyHash };
  }
}

/** Runs the writes of an issue in a transaction (the lock's own, or a short one of their own). */
type Commit = (writes: (tx: EntityManager) => Promise<void>) => Promise<void>;

interface Issued {
  key: string;
  /** The stored hash of the key this one replaced, to evict once committed. */
  replacedHash?: Buffer;
}
