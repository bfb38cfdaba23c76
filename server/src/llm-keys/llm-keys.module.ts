import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LiteLlmClient } from './litellm.client';
import { LlmKey } from './llm-key.entity';
import { LlmKeyVerifier } from './llm-key-verifier';
import { LlmKeysController } from './llm-keys.controller';
import { LlmKeysService } from './llm-keys.service';

@Module({
  imports: [TypeOrmModule.forFeature([LlmKey])],
  controllers: [LlmKeysController],
  providers: [LlmKeysService, LiteLlmClient, LlmKeyVerifier],
  exports: [LlmKeyVerifier],
})
export class LlmKeysModule {}
