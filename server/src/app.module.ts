import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { AuthModule } from './auth/auth.module';
import { ProblemDetailsFilter } from './common/problem-details.filter';
import { createValidationPipe } from './common/validation';
import { AppConfig } from './config/app-config';
import { DatabaseConnection, dataSourceOptions } from './database/data-source-options';
import { runMigrationsUnderLock } from './database/migrations-under-lock';
import { ConsoleModule } from './console/console.module';
import { DevIdpModule } from './dev-idp/dev-idp.module';
import { HealthModule } from './health/health.module';
import { AuditModule } from './audit/audit.controller';
import { WebhooksModule } from './webhooks/webhooks.module';
import { AdminModule } from './admin/admin.controller';
import { SecretScanningModule } from './secret-scanning/secret-scanning.controller';
import { APP_LOGGER, HttpPipelineModule } from './http/http-pipeline.module';
import { MetricsModule } from './metrics/metrics';
import { LlmKeysModule } from './llm-keys/llm-keys.module';
import { VerificationModule } from './verification/verification.module';

@Global()
@Module({})
class ConfigModule {
  static register(config: AppConfig, logger: Logger): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: AppConfig, useValue: config },
        { provide: APP_LOGGER, useValue: logger },
      ],
      exports: [AppConfig, APP_LOGGER],
    };
  }
}

@Module({})
export class AppModule {
  /** `database` is the server's, or the embedded PGlite socket's when none is configured. */
  static forRoot(config: AppConfig, database: DatabaseConnection, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.register(config, logger),
        MetricsModule,
        HttpPipelineModule,
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(database.url, database.poolSize, database.acquireTimeoutMs, database.embedded),
            retryAttempts: 2,
            retryDelay: 1000,
          }),
          // Migrations run here, under a lock, rather than by `migrationsRun` (see runMigrationsUnderLock).
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            try {
              await runMigrationsUnderLock(dataSource);
            } catch (error) {
              // A retry makes a new DataSource: this one's pool must not linger.
              await dataSource.destroy().catch(() => undefined);
              throw error;
            }
            return dataSource;
          },
        }),
        ApiKeysModule,
        AuthModule,
        LlmKeysModule,
        VerificationModule,
        HealthModule,
        AuditModule,
        WebhooksModule,
        AdminModule,
        SecretScanningModule,
        ...(config.oidc.embedded ? [DevIdpModule] : []),
        ConsoleModule.register(config.clientDir),
      ],
      providers: [
        // Every body and parameter validated; every error an RFC 9457 problem.
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      ],
    };
  }
}
