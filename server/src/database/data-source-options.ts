import type { DataSourceOptions } from 'typeorm';
import { ApiKey } from './entities/api-key.entity';
import { CreateApiKeys1764432000000 } from './migrations/1764432000000-CreateApiKeys';
import { CreateLlmKeys1764518400000 } from './migrations/1764518400000-CreateLlmKeys';
import { CreateEndedSessions1764604800000 } from './migrations/1764604800000-CreateEndedSessions';
import { CreateAuthFailures1764691200000 } from './migrations/1764691200000-CreateAuthFailures';
import { CreateAuditEventsAndUsage1764777600000 } from './migrations/1764777600000-CreateAuditEventsAndUsage';
import { CreateApiKeyNetworks1764864000000 } from './migrations/1764864000000-CreateApiKeyNetworks';
import { AddKeyRotation1764950400000 } from './migrations/1764950400000-AddKeyRotation';
import { CreateKeyPolicyAndUsers1765036800000 } from './migrations/1765036800000-CreateKeyPolicyAndUsers';
import { KeyLifecycleAndWebhooks1765209600000 } from './migrations/1765209600000-KeyLifecycleAndWebhooks';
import { ApiKeyListVersions1765296000000 } from './migrations/1765296000000-ApiKeyListVersions';
import { RetiredLlmKeys1765382400000 } from './migrations/1765382400000-RetiredLlmKeys';
import { RetiredLlmKeysLeakedAt1765468800000 } from './migrations/1765468800000-RetiredLlmKeysLeakedAt';
import { LlmKey } from './entities/llm-key.entity';

export const ENTITIES = [ApiKey, LlmKey];
export const MIGRATIONS = [
  CreateApiKeys1764432000000,
  CreateLlmKeys1764518400000,
  CreateEndedSessions1764604800000,
  CreateAuthFailures1764691200000,
  CreateAuditEventsAndUsage1764777600000,
  CreateApiKeyNetworks1764864000000,
  AddKeyRotation1764950400000,
  CreateKeyPolicyAndUsers1765036800000,
  KeyLifecycleAndWebhooks1765209600000,
  ApiKeyListVersions1765296000000,
  RetiredLlmKeys1765382400000,
  RetiredLlmKeysLeakedAt1765468800000,
];

/** How the app reaches its database: decided once at start (`databaseConnection`). */
export interface DatabaseConnection {
  url: string;
  /** The embedded PGlite: one session, so one pooled connection and a single instance. */
  embedded: boolean;
  poolSize: number;
  /** How long a query may wait for a connection (and for a new connection to open). */
  acquireTimeoutMs: number;
}

/**
 * The embedded database is one PostgreSQL session, so everything goes through one connection
 * and the driver queues the rest; a query may then wait behind the longest transaction (an LLM
 * key refresh waits on the LiteLLM proxy inside one), so it gets a longer wait before a 503.
 */
export function databaseConnection(
  settings: { url?: string; poolSize: number; connectTimeoutMs: number },
  embeddedUrl: string | undefined,
  longestTransactionMs: number,
): DatabaseConnection {
  if (settings.url) return { url: settings.url, embedded: false, poolSize: settings.poolSize, acquireTimeoutMs: settings.connectTimeoutMs };
  if (!embeddedUrl) throw new Error('no DATABASE_URL and no embedded database');
  return { url: embeddedUrl, embedded: true, poolSize: 1, acquireTimeoutMs: settings.connectTimeoutMs + longestTransactionMs };
}

/** One description of the database for the app, the tests and the TypeORM CLI (`ormconfig.ts`). */
export function dataSourceOptions(url: string, poolSize = 10, acquireTimeoutMs = 3000, embedded = false): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    // Never derive the schema from entities: every change is a reviewed migration.
    synchronize: false,
    extra: {
      max: poolSize,
      // Fail fast when the database is gone, so requests get a 503 instead of hanging. pg's pool
      // applies the same limit to a query waiting for a free connection.
      connectionTimeoutMillis: acquireTimeoutMs,
      query_timeout: 10000,
      // The embedded database accepts exactly one connection: never close it for idleness, or
      // a request arriving as it closes opens a second one, which is refused (a 503).
      idleTimeoutMillis: embedded ? 0 : 30000,
    },
  };
}
