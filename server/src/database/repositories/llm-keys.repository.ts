import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, EntityManager, Repository } from 'typeorm';
import { lockUntilCommit } from '../advisory-lock';
import { LlmKey } from '../entities/llm-key.entity';

export type StoredLlmKey = Pick<LlmKey, 'id' | 'userId' | 'keyCiphertext' | 'keyHash' | 'keyHint' | 'source'>;
export type LlmKeyValues = Pick<LlmKey, 'keyCiphertext' | 'keyHash' | 'keyHint' | 'source'>;

/** The `llm_keys` table: one encrypted key per user, found by user or by keyed hash. */
@Injectable()
export class LlmKeysRepository {
  constructor(
    @InjectRepository(LlmKey) private readonly keys: Repository<LlmKey>,
    private readonly dataSource: DataSource,
  ) {}

  /** Serialises provisioning and rotation of a user's key, on every instance, until `tx` ends. */
  lockUser(tx: EntityManager, userId: string): Promise<void> {
    return lockUntilCommit(tx, `llm_keys:${userId}`);
  }

  findByUser(userId: string, tx?: EntityManager): Promise<StoredLlmKey | null> {
    return (tx ? tx.getRepository(LlmKey) : this.keys).findOne({ where: { userId } });
  }

  /** The row that stores this key, leaked or not. */
  findByHash(keyHash: Buffer): Promise<StoredLlmKey | null> {
    return this.keys.findOne({ where: { keyHash } });
  }

  /** The owner of a working key: stored, and not reported leaked (a leaked one stays stored until its owner's next fetch). */
  async findOwnerByHash(keyHash: Buffer): Promise<{ id: number; userId: string } | undefined> {
    const rows: Array<{ id: number; user_id: string }> = await this.dataSource.query(
      'SELECT id, user_id FROM llm_keys WHERE key_hash = $1 AND NOT EXISTS (SELECT 1 FROM retired_llm_keys WHERE key_hash = $1)',
      [keyHash],
    );
    return rows[0] ? { id: rows[0].id, userId: rows[0].user_id } : undefined;
  }

  /** Whether this keyed hash is of a key that was some user's and has been replaced. */
  async wasRetired(keyHash: Buffer, tx?: EntityManager): Promise<boolean> {
    const rows: unknown[] = await (tx ?? this.dataSource).query('SELECT 1 FROM retired_llm_keys WHERE key_hash = $1', [keyHash]);
    return rows.length > 0;
  }

  async insert(tx: EntityManager, userId: string, values: LlmKeyValues): Promise<void> {
    await tx.insert(LlmKey, { ...values, userId, createdAt: new Date(), rotatedAt: null });
  }

  /** Records a key as retired (replaced): it verifies nowhere from then on (`findOwnerByHash`). */
  private async retire(tx: EntityManager, row: StoredLlmKey): Promise<void> {
    await tx.query('INSERT INTO retired_llm_keys (key_hash, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [row.keyHash, row.userId]);
  }

  /**
   * Records a stored key as reported leaked, and so retired (its owner's next fetch replaces
   * it). True the first time it is reported, whether or not a replacement retired it already.
   */
  async markLeaked(tx: EntityManager, row: StoredLlmKey): Promise<boolean> {
    const marked: unknown[] = await tx.query(
      `INSERT INTO retired_llm_keys (key_hash, user_id, leaked_at) VALUES ($1, $2, now())
       ON CONFLICT (key_hash) DO UPDATE SET leaked_at = now() WHERE retired_llm_keys.leaked_at IS NULL
       RETURNING key_hash`,
      [row.keyHash, row.userId],
    );
    return marked.length > 0;
  }

  /** Replaces a user's key, remembering the old one's hash (see `retired_llm_keys`). */
  async replace(tx: EntityManager, previous: StoredLlmKey, values: LlmKeyValues): Promise<void> {
    await this.retire(tx, previous);
    await tx.update(LlmKey, { id: previous.id }, { ...values, rotatedAt: new Date() });
  }
}
