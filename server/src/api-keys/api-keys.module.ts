import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module';
import { DatabaseModule } from '../database/database.module';
import { ApiKeysController } from './api-keys.controller';
import { ApiKeysService } from './api-keys.service';
import { KeyUsageService } from './key-usage.service';

@Module({
  imports: [DatabaseModule, CredentialsModule],
  controllers: [ApiKeysController],
  providers: [ApiKeysService, KeyUsageService],
  exports: [KeyUsageService],
})
export class ApiKeysModule {}
