import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A user's one BYOR LLM key. It must be handed out again, so unlike API keys it is stored
 * encrypted (AES-256-GCM); its keyed hash serves verification without decrypting anything.
 */
@Entity({ name: 'llm_keys' })
export class LlmKey {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ name: 'user_id', type: 'varchar', length: 255, unique: true })
  userId: string;

  @Column({ name: 'key_ciphertext', type: 'text' })
  keyCiphertext: string;

  @Column({ name: 'key_hash', type: 'bytea' })
  keyHash: Buffer;

  @Column({ name: 'key_hint', type: 'varchar', length: 32 })
  keyHint: string;

  /** Where the key lives: a LiteLLM proxy, or this service itself. */
  @Column({ type: 'varchar', length: 16 })
  source: 'litellm' | 'embedded';

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'rotated_at', type: 'timestamptz', nullable: true })
  rotatedAt: Date | null;
}
