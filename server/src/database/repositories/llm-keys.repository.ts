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

  async findOwnerByHash(keyHash: Buffer): Promise<{ id: number; userId: string } | undefined> {
    const rows: Array<{ id: number; user_id: string }> = await this.dataSource.query(
      'SELECT id, user_id FROM llm_keys WHERE key_hash = $1',
      [keyHash],
    );
    return rows[0] ? { id: rows[0].id, userId: rows[0].user_id } : undefined;
  }

  async insert(tx: EntityManager, userId: string, values: LlmKeyValues): Promise<void> {
    await tx.insert(LlmKey, { ...values, userId, createdAt: new Date(), rotatedAt: null });
  }

  async replace(tx: EntityManager, id: number, values: LlmKeyValues): Promise<void> {
    await tx.update(LlmKey, { id }, { ...values, rotatedAt: new Date() });
  }
}
