import { Module } from '@nestjs/common';
import { CredentialsModule } from '../credentials/credentials.module';
import { DatabaseModule } from '../database/database.module';
import { HealthController } from './health.controller';
import { MetricsCollectors, MetricsController } from './metrics.controller';
import { VersionController } from './version.controller';

/** What operators and probes read: health, version, Prometheus metrics. */
@Module({
  imports: [DatabaseModule, CredentialsModule],
  controllers: [HealthController, VersionController, MetricsController],
  providers: [MetricsCollectors],
})
export class HealthModule {}
