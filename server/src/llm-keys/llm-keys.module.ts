import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module';
import { DatabaseModule } from '../database/database.module';
import { LiteLlmClient } from './litellm.client';
import { LlmKeysController } from './llm-keys.controller';
import { LlmKeysService } from './llm-keys.service';

@Module({
  imports: [DatabaseModule, CredentialsModule],
  controllers: [LlmKeysController],
  providers: [LlmKeysService, LiteLlmClient],
  // Secret scanning replaces leaked LLM keys.
  exports: [LlmKeysService],
})
export class LlmKeysModule {}
