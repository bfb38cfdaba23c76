import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from './api-key.entity';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { KeyInvalidationService } from './key-invalidation.service';
import { KeyVerifier } from './key-verifier.service';
import { LastUsedTracker } from './last-used.tracker';

@Module({
  imports: [TypeOrmModule.forFeature([ApiKey])],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, KeyVerifier, LastUsedTracker, KeyInvalidationService],
  exports: [KeyVerifier, KeyInvalidationService, LastUsedTracker],
})
export class ApiKeysModule {}
