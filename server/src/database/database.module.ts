import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LlmKey } from './entities/llm-key.entity';
import { ApiKeysRepository } from './repositories/api-keys.repository';
import { AuditEventsRepository } from './repositories/audit-events.repository';
import { KeyUsageRepository } from './repositories/key-usage.repository';
import { KeyNetworksRepository } from './repositories/key-networks.repository';
import { EndedSessionsRepository } from './repositories/ended-sessions.repository';
import { LlmKeysRepository } from './repositories/llm-keys.repository';
import { KeyPolicyRepository, KnownUsersRepository } from './repositories/key-policy.repository';
import { AdminQueriesRepository } from './repositories/admin-queries.repository';

const REPOSITORIES = [
  ApiKeysRepository,
  LlmKeysRepository,
  EndedSessionsRepository,
  AuditEventsRepository,
  KeyUsageRepository,
  KeyNetworksRepository,
  KeyPolicyRepository,
  KnownUsersRepository,
  AdminQueriesRepository,
];

/** One repository per table; every feature and the credentials core reach the data through them. */
@Module({
  imports: [TypeOrmModule.forFeature([LlmKey])],
  providers: REPOSITORIES,
  exports: REPOSITORIES,
})
export class DatabaseModule {}
