import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** The `ended_session_tokens` table: SHA-256 digests of signed-out access tokens, until they expire. */
@Injectable()
export class EndedSessionsRepository {
  constructor(private readonly dataSource: DataSource) {}

  async add(tx: EntityManager, tokenHash: Buffer, expiresAt: Date): Promise<void> {
    await tx.query('INSERT INTO ended_session_tokens (token_hash, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
      tokenHash,
      expiresAt,
    ]);
    // Keep the table to tokens that could still be presented.
    await tx.query("DELETE FROM ended_session_tokens WHERE expires_at < now() - interval '1 hour'");
  }

  async containsAny(digests: Buffer[]): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query('SELECT 1 FROM ended_session_tokens WHERE token_hash = ANY($1::bytea[]) LIMIT 1', [
      digests,
    ]);
    return rows.length > 0;
  }
}
