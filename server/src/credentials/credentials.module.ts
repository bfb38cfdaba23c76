import { Module } from '@nestjs/common';
import { DatabaseModule } from '../database/database.module';
import { KeyInvalidationService } from './key-invalidation.service';
import { KeyPolicyService } from './key-policy.service';
import { KeyVerifier } from './key-verifier.service';
import { LastUsedTracker } from './last-used.tracker';
import { VerificationCache } from './verification-cache';

/**
 * What every feature shares about credentials: the principal and scopes, the key format and
 * hashing, the one verification cache, invalidation across instances, and the last-used
 * tracker. It depends on the database layer only; features depend on it, never the reverse.
 */
@Module({
  imports: [DatabaseModule],
  providers: [KeyVerifier, VerificationCache, KeyInvalidationService, LastUsedTracker, KeyPolicyService],
  exports: [KeyVerifier, KeyInvalidationService, LastUsedTracker, KeyPolicyService],
})
export class CredentialsModule {}
