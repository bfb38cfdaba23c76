import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
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

  constructor(
    private readonly keys: LlmKeysRepository,
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly gateway: LiteLlmClient,
    private readonly verifier: KeyVerifier,
    private readonly invalidation: KeyInvalidationService,
  ) {
    this.sealKey = deriveKey(config.llmKeys.encryptionKey, 'llm-keys');
  }

  async get(userId: string): Promise<string> {
    const row = await this.keys.findByUser(userId);
    if (!row)
      return this.withUserLock(userId, async (tx, existing) => (existing ? { key: this.open(existing) } : this.issue(tx, userId, null)));
    const key = this.open(row);
    if (row.source === 'litellm' && this.gateway.enabled && (await this.gateway.check(key)) === 'invalid') {
      // The proxy no longer accepts it (deleted there, expired, proxy reset): replace it.
      return this.withUserLock(userId, (tx, existing) => this.issue(tx, userId, existing, { oldAlreadyInvalid: true }));
    }
    return key;
  }

  refresh(userId: string): Promise<string> {
    return this.withUserLock(userId, (tx, existing) => this.issue(tx, userId, existing));
  }

  private open(row: StoredLlmKey): string {
    const key = unseal(row.keyCiphertext, this.sealKey);
    // Only a changed LLM_KEY_ENCRYPTION_KEY or an altered row gets here.
    if (key === undefined) throw new Error(`LLM key ${row.id} cannot be decrypted with the configured LLM_KEY_ENCRYPTION_KEY`);
    return key;
  }

  /**
   * Runs `work` under the user's lock, inside one transaction; afterwards (committed) evicts the
   * key it replaced from this instance's cache. The others evict it on the NOTIFY.
   */
  private async withUserLock(userId: string, work: (tx: EntityManager, existing: StoredLlmKey | null) => Promise<Issued>): Promise<string> {
    const issued = await this.dataSource.transaction(async (tx) => {
      await this.keys.lockUser(tx, userId);
      return work(tx, await this.keys.findByUser(userId, tx));
    });
    if (issued.replacedHash) this.invalidation.evictLocally([issued.replacedHash]);
    return issued.key;
  }

  /** Creates a key (at the proxy or here), stores it encrypted, and retires the previous one. */
  private async issue(
    tx: EntityManager,
    userId: string,
    previous: StoredLlmKey | null,
    options: { oldAlreadyInvalid?: boolean } = {},
  ): Promise<Issued> {
    const useGateway = this.gateway.enabled;
    const key = useGateway ? await this.gateway.generate(userId) : generateKey(this.config.llmKeys.prefix);
    if (previous?.source === 'litellm' && this.gateway.enabled) {
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
    if (!previous) {
      await this.keys.insert(tx, userId, values);
      return { key };
    }
    await this.keys.replace(tx, previous.id, values);
    // Every instance drops the old key when this transaction commits.
    await this.invalidation.publish(tx, [previous.keyHash]);
    return { key, replacedHash: previous.keyHash };
  }
}

interface Issued {
  key: string;
  /** The stored hash of the key this one replaced, to evict once committed. */
  replacedHash?: Buffer;
}
