import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { LiteLlmClient } from './litellm.client';
import { LlmKey } from './llm-key.entity';
import { LlmKeyVerifier } from './llm-key-verifier';
import { LlmKeysController } from './llm-keys.controller';
import { LlmKeysService } from './llm-keys.service';

@Module({
  imports: [TypeOrmModule.forFeature([LlmKey]), ApiKeysModule],
  controllers: [LlmKeysController],
  providers: [LlmKeysService, LiteLlmClient, LlmKeyVerifier],
  exports: [LlmKeyVerifier],
})
export class LlmKeysModule {}
