import { Body, Controller, HttpCode, Injectable, Module, ParseArrayPipe, Post, Req, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, type KeyObject, verify as cryptoVerify } from 'node:crypto';
import { parseScanningKeys } from '../config/scanning-keys';
import { storableText } from '../common/validation';
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
import { LlmKeysModule } from '../llm-keys/llm-keys.module';
import { LlmKeysService } from '../llm-keys/llm-keys.service';
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

/**
 * Revokes reported API keys and LLM keys: whoever holds a key may kill it, so a report needs no signature to
 * revoke. With SECRET_SCANNING_PUBLIC_KEYS set, a report signed by one of them (GitHub's
 * `Github-Public-Key-Identifier` / `Github-Public-Key-Signature`, ECDSA over the raw body) is
 * answered with labels and its `url` and `source` are recorded; an unsigned one only revokes:
 * 202 and no labels, since a stranger learns nothing from it.
 */
@Injectable()
export class LeakedKeys {
  private readonly scanningKeys: Map<string, KeyObject>;

  constructor(
    private readonly config: AppConfig,
    private readonly verifier: KeyVerifier,
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditEventsRepository,
    private readonly invalidation: KeyInvalidationService,
    private readonly dataSource: DataSource,
    private readonly metrics: Metrics,
    private readonly llmKeys: LlmKeysService,
  ) {
    this.scanningKeys = parseScanningKeys(config.secretScanningPublicKeys);
  }

  /** Null when no keys are configured; otherwise whether the report is signed by one of them. */
  signed(request: FastifyRequest): boolean | null {
    if (this.scanningKeys.size === 0) return null;
    const id = request.headers['github-public-key-identifier'];
    const signature = request.headers['github-public-key-signature'];
    const body = (request as FastifyRequest & { rawBody?: string }).rawBody;
    if (typeof id !== 'string' || typeof signature !== 'string' || body === undefined) return false;
    const key = this.scanningKeys.get(id);
    if (!key) return false;
    try {
      return cryptoVerify('sha256', Buffer.from(body, 'utf8'), key, Buffer.from(signature, 'base64'));
    } catch {
      return false;
    }
  }

  /** Our own LLM keys carry a checksum (a typo is refused offline); the proxy's keys have no known shape. */
  private mayBeLlmKey(token: string): boolean {
    const prefix = this.config.llmKeys.prefix;
    return token.startsWith(prefix) ? parseKey(token, prefix).ok : token.length >= 8;
  }

  async handle(reports: LeakedTokenReport[], request: FastifyRequest, signed: boolean | null): Promise<LeakedTokenLabel[]> {
    const trusted = signed !== false;
    const actor = { ...actorOf(request, undefined), authType: 'secret_scanning' };
    // Where the key was found, as reported: recorded only from a report we can trust.
    const where = (report: LeakedTokenReport): { url?: string; source?: string; signed: boolean } =>
      trusted
        ? { url: storableText(report.url, 2048), source: storableText(report.source, 200), signed: signed === true }
        : { signed: false };
    const candidates = reports.map((report) => {
      const token = report.token.trim();
      const ours = parseKey(token, this.config.apiKeys.prefix).ok;
      return { report, token, ours, stored: ours ? this.verifier.hash(token) : undefined };
    });
    const hashes = candidates.flatMap((c) => (c.stored ? [c.stored] : []));
    // One transaction for the whole report: every live key revoked, every instance told, every event recorded.
    const revoked = hashes.length
      ? await this.dataSource.transaction(async (tx) => {
          const keys = await this.keys.revokeManyByHash(tx, hashes);
          if (keys.length === 0) return keys;
          await this.invalidation.publish(
            tx,
            keys.map((k) => k.keyHash),
          );
          for (const key of keys) {
            const report = candidates.find((c) => c.stored?.equals(key.keyHash))!.report;
            await this.audit.record(tx, {
              type: 'api_key.leaked',
              actor,
              subject: { userId: key.userId, keyId: key.id, keyName: key.name, keyHint: key.keyHint },
              details: { ...where(report), reason: 'leak' },
            });
          }
          return keys;
        })
      : [];
    if (revoked.length) {
      this.invalidation.evictLocally(revoked.map((k) => k.keyHash));
      this.metrics.keysRevoked.labels('leak').inc(revoked.length);
    }
    const labels: LeakedTokenLabel[] = [];
    /** Why the reporter must come back (the proxy's trouble, or a key being handled right now). */
    let retryLater: unknown;
    /** After the proxy's first failure it is not called again for this report. */
    let gatewayFailed = false;
    /** A token reported more than once in one report is handled once. */
    const decided = new Map<string, boolean>();
    for (const candidate of candidates) {
      let ours = decided.get(candidate.token);
      if (ours !== undefined) {
        // Already decided above.
      } else if (candidate.stored) {
        ours = revoked.some((k) => k.keyHash.equals(candidate.stored!));
        // Not active now: still ours if it ever existed (revoked, expired or replaced earlier).
        if (!ours) ours = (await this.verifier.verify(candidate.token)).code !== 'NOT_FOUND';
      } else if (this.mayBeLlmKey(candidate.token)) {
        // A user's LLM key (ours, or the LiteLLM proxy's): dead here at once, deleted at the
        // proxy; its owner's next fetch gets a new one. Each key on its own: one that cannot be
        // finished now does not undo or hold up the others.
        try {
          const outcome = await this.llmKeys.revokeLeaked(candidate.token, actor, where(candidate.report), !gatewayFailed);
          if (outcome === 'busy') retryLater ??= busyProblem();
          if (outcome === 'gateway_pending')
            retryLater ??= ApiProblem.unavailable(
              'The LLM gateway failed earlier in this report; report again.',
              'llm_gateway_unavailable',
            );
          ours = outcome !== 'unknown';
        } catch (error) {
          // The proxy's trouble (only a key that is or was ours reaches it): no more calls to it in
          // this report. Anything else (the database) ends the report here.
          if (!isGatewayProblem(error)) throw error;
          gatewayFailed = true;
          retryLater ??= error;
          ours = true;
        }
      } else ours = false;
      decided.set(candidate.token, ours);
      labels.push({
        token_hash: createHash('sha256').update(candidate.report.token).digest('hex'),
        token_type: candidate.report.type ?? 'api_key',
        label: ours ? 'true_positive' : 'false_positive',
      });
    }
    // The reporter must come back: what was done stays done, and a repeated report is answered
    // the same way (a revoked key is remembered as ours), so a retry finishes the rest. Not an
    // unsigned reporter while signing keys are configured: an error would tell a stranger that
    // the token is a live LLM key, which its 202 never does.
    if (retryLater !== undefined && signed !== false) throw retryLater;
    return labels;
  }
}

function isGatewayProblem(error: unknown): boolean {
  return error instanceof ApiProblem && String(error.problem.code).startsWith('llm_gateway_');
}

/** Another report is handling the same key right now: come back in a few seconds. */
function busyProblem(): ApiProblem {
  return new ApiProblem({
    status: 503,
    code: 'llm_key_busy',
    detail: 'Another report of this LLM key is being handled right now; report again in a few seconds.',
    headers: { 'Retry-After': '5' },
  });
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
    summary:
      "Report leaked keys (GitHub secret scanning partner format): a real, active API key is revoked at once on every instance; a user's LLM key is revoked too (dead here at once, deleted at the proxy; its owner's next fetch gets a new one)",
    description:
      `Public and rate limited (${REQUESTS_PER_MINUTE} requests per address and minute, at most ${MAX_TOKENS} tokens each). ` +
      'Every report gets a label; the token itself is never returned, only its SHA-256. With SECRET_SCANNING_PUBLIC_KEYS set, ' +
      "only reports signed by one of those keys (GitHub's `Github-Public-Key-Identifier` and `Github-Public-Key-Signature` headers) " +
      'get labels; unsigned ones still revoke, and get 202 with an empty array.',
  })
  @ApiBody({ type: [LeakedTokenReport] })
  @ApiOkResponse({ type: [LeakedTokenLabel] })
  @ApiAcceptedResponse({
    type: [LeakedTokenLabel],
    description: 'Unsigned while signing keys are configured: revoked, not labelled (empty array)',
  })
  @ApiBodyProblemResponses()
  @ApiProblemResponse(422, `Not an array of at most ${MAX_TOKENS} reports with a token each.`, ['validation_failed'])
  @ApiProblemResponse(429, 'Too many reports from this address.', ['rate_limited'], RETRY_AFTER)
  @ApiProblemResponse(502, 'The LLM gateway refused to delete a reported LLM key; report again (what was done stays done).', [
    'llm_gateway_error',
  ])
  @ApiProblemResponse(
    503,
    'A reported LLM key (already dead here) could not be deleted at the gateway now (unreachable, or it failed earlier in the report), or another report is handling the same key; report again. Never for an unsigned report while signing keys are configured.',
    ['llm_gateway_unavailable', 'llm_key_busy'],
    RETRY_AFTER,
  )
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
    @Res({ passthrough: true }) reply: FastifyReply,
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
    const signed = this.leaked.signed(request);
    const labels = await this.leaked.handle(reports, request, signed);
    if (signed === false) {
      reply.status(202);
      return [];
    }
    return labels;
  }
}

@Module({ imports: [DatabaseModule, CredentialsModule, LlmKeysModule], controllers: [SecretScanningController], providers: [LeakedKeys] })
export class SecretScanningModule {}
