import type { DataSourceOptions } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import { CreateApiKeys1764432000000 } from './migrations/1764432000000-CreateApiKeys';
import { CreateLlmKeys1764518400000 } from './migrations/1764518400000-CreateLlmKeys';
import { LlmKey } from '../llm-keys/llm-key.entity';

export const ENTITIES = [ApiKey, LlmKey];
export const MIGRATIONS = [CreateApiKeys1764432000000, CreateLlmKeys1764518400000];

/** One description of the database for the app, the tests and the TypeORM CLI (`ormconfig.ts`). */
export function dataSourceOptions(url: string, poolSize = 10, connectTimeoutMs = 3000): DataSourceOptions {
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
      // Fail fast when the database is gone, so requests get a 503 instead of hanging.
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: 10000,
      idleTimeoutMillis: 30000,
    },
  };
}
