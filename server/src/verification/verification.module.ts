import { Module } from '@nestjs/common';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { AuthModule } from '../auth/auth.module';
import { LlmKeysModule } from '../llm-keys/llm-keys.module';
import { ServiceTokenGuard } from './service-token.guard';
import { VerificationController } from './verification.controller';

@Module({
  imports: [ApiKeysModule, LlmKeysModule, AuthModule],
  controllers: [VerificationController],
  providers: [ServiceTokenGuard],
})
export class VerificationModule {}
