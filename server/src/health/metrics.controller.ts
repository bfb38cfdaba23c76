import { Controller, Get, Injectable, OnModuleInit, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import { DataSource } from 'typeorm';
import { Public } from '../auth/decorators/auth.decorators';
import { ApiProblem } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { KeyInvalidationService } from '../credentials/key-invalidation.service';
import { KeyPolicyService } from '../credentials/key-policy.service';
import { ApiKeysRepository } from '../database/repositories/api-keys.repository';
import { Metrics } from '../metrics/metrics';

/** The key-state gauges cost a count over the keys table: at most one per this interval. */
const KEY_COUNTS_MAX_AGE_MS = 60_000;
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

interface PgPool {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
}

/** Reads, before each scrape, what other parts of the app know: key counts, pool, listener. */
@Injectable()
export class MetricsCollectors implements OnModuleInit {
  private keyCountsAt = 0;

  constructor(
    private readonly metrics: Metrics,
    private readonly keys: ApiKeysRepository,
    private readonly invalidation: KeyInvalidationService,
    private readonly dataSource: DataSource,
    private readonly policy: KeyPolicyService,
  ) {}

  onModuleInit(): void {
    this.metrics.onCollect(() => {
      this.metrics.invalidationListener.set(this.invalidation.live ? 1 : 0);
      const pool = (this.dataSource.driver as unknown as { master?: PgPool }).master;
      if (pool) {
        this.metrics.poolConnections.labels('in_use').set(pool.totalCount - pool.idleCount);
        this.metrics.poolConnections.labels('idle').set(pool.idleCount);
        this.metrics.poolConnections.labels('waiting').set(pool.waitingCount);
      }
    });
    this.metrics.onCollect(async () => {
      if (Date.now() - this.keyCountsAt < KEY_COUNTS_MAX_AGE_MS) return;
      this.keyCountsAt = Date.now();
      const counts = await this.keys.stateCounts(this.policy.current().expiryWarningDays);
      this.metrics.keysActive.set(counts.active);
      this.metrics.keysExpired.set(counts.expired);
      this.metrics.keysExpiringSoon.set(counts.expiringSoon);
    });
  }
}

/**
 * GET /metrics in the Prometheus text format. Never public by default: with METRICS_TOKEN set,
 * Prometheus sends it as a Bearer token (compared in constant time); without it, development
 * answers loopback clients only and production nobody.
 */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  private readonly tokenDigest?: Buffer;

  constructor(
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {
    const token = config.operations.metricsToken;
    this.tokenDigest = token ? createHash('sha256').update(token).digest() : undefined;
  }

  @Get()
  @Public()
  async scrape(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    this.authorize(request);
    const { contentType, body } = await this.metrics.render();
    reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
  }

  private authorize(request: FastifyRequest): void {
    if (this.tokenDigest) {
      const header = request.headers.authorization ?? '';
      const match = /^Bearer +(\S+)$/i.exec(header);
      const given = createHash('sha256')
        .update(match?.[1] ?? '')
        .digest();
      if (!match || !timingSafeEqual(given, this.tokenDigest)) {
        throw new ApiProblem({
          status: 401,
          code: 'missing_credential',
          detail: 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>.',
          headers: { 'WWW-Authenticate': 'Bearer realm="metrics"' },
        });
      }
      return;
    }
    if (this.config.production || !LOOPBACK.has(request.ip)) {
      // As if it were not there: nothing about the service is told to someone not allowed to scrape.
      throw ApiProblem.notFound(
        this.config.production ? 'Not found.' : 'GET /metrics answers loopback clients only unless METRICS_TOKEN is set.',
        'not_found',
      );
    }
  }
}
