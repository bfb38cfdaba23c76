import { Body, Controller, HttpCode, Injectable, Module, ParseArrayPipe, Post, Req } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import { actorOf, Public } from '../auth/decorators/auth.decorators';
import { ApiProblem } from '../common/problem';
import { ApiBodyProblemResponses, ApiProblemResponse, RETRY_AFTER } from '../common/problem.dto';
import { clientKey } from '../config/trusted-proxies';
import { CredentialsModule } from '../credentials/credentials.module';
import { KeyInvalidationService } from '../credentials/key-invalidation.service';
import { KeyVerifier } from '../credentials/key-verifier.service';
import { parseKey } from '../credentials/key-format';
import { AppConfig } from '../config/app-config';
import { DatabaseModule } from '../database/database.module';
import { ApiKeysRepository } from '../database/repositories/api-keys.repository';
import { AuditEventsRepository } from '../database/repositories/audit-events.repository';
import { Metrics } from '../metrics/metrics';

/** At most this many reports per request, and this many requests per address and minute. */
const MAX_TOKENS = 100;
const REQUESTS_PER_MINUTE = 30;

/** One match, as GitHub secret scanning sends them to partners. */
export class LeakedTokenReport {
  @ApiProperty({ example: 'sk-oh-…', description: 'The text found' }) @IsString() @MaxLength(512) token: string;
  @ApiPropertyOptional({ example: 'api_key_service_api_key' }) @IsOptional() @IsString() @MaxLength(200) type?: string;
  @ApiPropertyOptional({ example: 'https://github.com/octo/repo/blob/abc/config.py#L3' })
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  url?: string;
  @ApiPropertyOptional({ example: 'content' }) @IsOptional() @IsString() @MaxLength(200) source?: string;
}

export class LeakedTokenLabel {
  @ApiProperty({ example: 'b9b7…', description: 'SHA-256 of the reported token, hex: the token itself is never sent back' })
  token_hash: string;
  @ApiProperty({ example: 'api_key_service_api_key' }) token_type: string;
  @ApiProperty({ enum: ['true_positive', 'false_positive'] }) label: 'true_positive' | 'false_positive';
}

/** Revokes reported keys: whoever holds a key may kill it, so a report needs no signature to revoke. */
@Injectable()
export class LeakedKeys {
  constructor(
    private readonly config: AppConfig,
    private readonly verifier: KeyVerifier,
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditEventsRepository,
    private readonly invalidation: KeyInvalidationService,
    private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
  ) {}

  async handle(reports: LeakedTokenReport[], request: FastifyRequest): Promise<LeakedTokenLabel[]> {
    const labels: LeakedTokenLabel[] = [];
    for (const report of reports) {
      const token = report.token.trim();
      const tokenHash = createHash('sha256').update(report.token).digest('hex');
      const label = (ours: boolean): LeakedTokenLabel => ({
        token_hash: tokenHash,
        token_type: report.type ?? 'api_key',
        label: ours ? 'true_positive' : 'false_positive',
      });
      if (!parseKey(token, this.config.apiKeys.prefix).ok) {
        labels.push(label(false));
        continue;
      }
      const stored = this.verifier.hash(token);
      const revoked = await this.dataSource.transaction(async (tx) => {
        const key = await this.keys.revokeByHash(tx, stored);
        if (!key) return undefined;
        await this.invalidation.publish(tx, [stored]);
        await this.audit.record(tx, {
          type: 'api_key.leaked',
          actor: { ...actorOf(request, undefined), authType: 'secret_scanning' },
          subject: { userId: key.userId, keyId: key.id, keyName: key.name, keyHint: key.keyHint },
          details: { url: report.url?.slice(0, 2048), source: report.source?.slice(0, 200), reason: 'leak' },
        });
        return key;
      });
      if (revoked) {
        this.invalidation.evictLocally([stored]);
        this.metrics.keysRevoked.labels('leak').inc();
        labels.push(label(true));
        continue;
      }
      // Not active now: still ours if it ever existed (revoked, expired or replaced earlier).
      const known = await this.verifier.verify(token);
      labels.push(label(known.code !== 'NOT_FOUND'));
    }
    return labels;
  }
}

@ApiTags('Secret scanning')
@Controller('api/secret-scanning/leaked-keys')
export class SecretScanningController {
  private readonly rate = new RateLimiterMemory({ points: REQUESTS_PER_MINUTE, duration: 60 });

  constructor(private readonly leaked: LeakedKeys) {}

  @Post()
  @Public()
  @HttpCode(200)
  @ApiOperation({
    operationId: 'reportLeakedKeys',
    summary: 'Report leaked keys (GitHub secret scanning partner format): a real, active key is revoked at once on every instance',
    description:
      `Public and rate limited (${REQUESTS_PER_MINUTE} requests per address and minute, at most ${MAX_TOKENS} tokens each). ` +
      'Every report gets a label; the token itself is never returned, only its SHA-256.',
  })
  @ApiBody({ type: [LeakedTokenReport] })
  @ApiOkResponse({ type: [LeakedTokenLabel] })
  @ApiBodyProblemResponses()
  @ApiProblemResponse(422, `Not an array of at most ${MAX_TOKENS} reports with a token each.`, ['validation_failed'])
  @ApiProblemResponse(429, 'Too many reports from this address.', ['rate_limited'], RETRY_AFTER)
  async report(
    @Body(
      new ParseArrayPipe({
        items: LeakedTokenReport,
        whitelist: true,
        forbidNonWhitelisted: false,
        // The same problem as every other body: 422 validation_failed naming what is wrong (never the value).
        exceptionFactory: (message: string) =>
          ApiProblem.unprocessable(`The report is invalid: ${message}`, [{ field: 'body', message: String(message) }]),
      }),
    )
    reports: LeakedTokenReport[],
    @Req() request: FastifyRequest,
  ): Promise<LeakedTokenLabel[]> {
    try {
      await this.rate.consume(clientKey(request.ip));
    } catch (error) {
      const retry = error instanceof RateLimiterRes ? Math.ceil(error.msBeforeNext / 1000) : 60;
      throw new ApiProblem({
        status: 429,
        code: 'rate_limited',
        detail: `Too many leak reports from this address; retry in ${retry} s.`,
        headers: { 'Retry-After': String(retry) },
      });
    }
    if (reports.length > MAX_TOKENS)
      throw ApiProblem.unprocessable(`At most ${MAX_TOKENS} reports per request.`, [
        { field: 'body', message: `at most ${MAX_TOKENS} items` },
      ]);
    return this.leaked.handle(reports, request);
  }
}

@Module({ imports: [DatabaseModule, CredentialsModule], controllers: [SecretScanningController], providers: [LeakedKeys] })
export class SecretScanningModule {}
