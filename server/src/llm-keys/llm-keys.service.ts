import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { generateKey } from '../api-keys/api-key-secret';
import { deriveKey, seal, unseal } from '../common/sealed';
import { AppConfig } from '../config/app-config';
import { INVALIDATION_CHANNEL } from '../api-keys/key-invalidation.service';
import { LiteLlmClient } from './litellm.client';
import { LlmKey } from './llm-key.entity';
import { LlmKeyVerifier } from './llm-key-verifier';

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
    @InjectRepository(LlmKey) private readonly keys: Repository<LlmKey>,
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly gateway: LiteLlmClient,
    private readonly verifier: LlmKeyVerifier,
  ) {
    this.sealKey = deriveKey(config.llmKeys.encryptionKey, 'llm-keys');
  }

  async get(userId: string): Promise<string> {
    const row = await this.keys.findOne({ where: { userId } });
    if (!row) return this.withUserLock(userId, async (tx, existing) => (existing ? this.open(existing) : this.issue(tx, userId, null)));
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

  private open(row: LlmKey): string {
    const key = unseal(row.keyCiphertext, this.sealKey);
    // Only a changed LLM_KEY_ENCRYPTION_KEY or an altered row gets here.
    if (key === undefined) throw new Error(`LLM key ${row.id} cannot be decrypted with the configured LLM_KEY_ENCRYPTION_KEY`);
    return key;
  }

  private async withUserLock(userId: string, work: (tx: EntityManager, existing: LlmKey | null) => Promise<string>): Promise<string> {
    return this.dataSource.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`llm_keys:${userId}`]);
      const existing = await tx.findOne(LlmKey, { where: { userId } });
      return work(tx, existing);
    });
  }

  /** Creates a key (at the proxy or here), stores it encrypted, and retires the previous one. */
  private async issue(tx: EntityManager, userId: string, previous: LlmKey | null, options: { oldAlreadyInvalid?: boolean } = {}): Promise<string> {
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
    if (previous) {
      await tx.update(LlmKey, { id: previous.id }, { ...values, rotatedAt: new Date() });
      // Every instance drops the old key when this transaction commits.
      await tx.query(`SELECT pg_notify('${INVALIDATION_CHANNEL}', encode($1::bytea, 'base64'))`, [previous.keyHash]);
      this.verifier.evict(previous.keyHash);
    } else {
      await tx.insert(LlmKey, { ...values, userId, createdAt: new Date(), rotatedAt: null });
    }
    return key;
  }
}
