import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { ServiceTokenGuard } from './service-token.guard';
import { VerificationController } from './verification.controller';

@Module({
  imports: [CredentialsModule, AuthModule],
  controllers: [VerificationController],
  providers: [ServiceTokenGuard],
})
export class VerificationModule {}
