import type { EntityManager } from 'typeorm';

/**
 * Serialises work on `resource` across every instance sharing the database, until the
 * surrounding transaction ends (per-user key caps, one LLM key per user).
 */
export async function lockUntilCommit(tx: EntityManager, resource: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [resource]);
}
