import { Global, Injectable, Module } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { RequestDurations } from './request-durations';

/** How a request authenticated (the label `method` of api_key_authentications_total). */
export type AuthMethod = 'api_key' | 'mcp' | 'jwt' | 'cookie';

/**
 * The service's Prometheus metrics, in a registry of this app's own (tests and the benchmark run
 * several apps in one process). Label values are bounded sets: methods, result codes, reasons,
 * route templates and status classes — never user ids, key ids or raw paths. What every request
 * records is a plain addition: the hot counters are summed here and handed to prom-client when
 * it collects (a scrape), and the request histogram is a collector of our own (RequestDurations).
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  readonly keysCreated = new Counter({ name: 'api_keys_created_total', help: 'API keys created', registers: [this.registry] });
  readonly keysRevoked = new Counter({
    name: 'api_keys_revoked_total',
    help: 'API keys revoked, by reason (owner, admin, rotation, leak)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  /** Successful authentications and cache hits since the last collection (see `collectHot`). */
  private readonly pendingSuccess: Record<AuthMethod, number> = { api_key: 0, mcp: 0, jwt: 0, cookie: 0 };
  private pendingCacheHits = 0;

  readonly authentications = new Counter({
    name: 'api_key_authentications_total',
    help: 'Authentications by credential type (api_key, mcp, jwt, cookie) and result (success or the problem code)',
    labelNames: ['method', 'result'] as const,
    registers: [this.registry],
    collect: () => this.collectHot(),
  });
  readonly requestDurations = new RequestDurations([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], this.registry);
  readonly cacheLookups = new Counter({
    name: 'key_verification_cache_lookups_total',
    help: 'Verification cache lookups of API and LLM keys (hit, miss)',
    labelNames: ['result'] as const,
    registers: [this.registry],
    collect: () => this.collectHot(),
  });
  readonly lastUsedWrites = new Counter({
    name: 'api_key_last_used_writes_total',
    help: 'Keys whose last use was written to the database (batched)',
    registers: [this.registry],
  });
  readonly invalidationListener = new Gauge({
    name: 'key_invalidation_listener_connected',
    help: '1 while this instance listens for revocations from other instances (or needs none: embedded database)',
    registers: [this.registry],
  });
  readonly poolConnections = new Gauge({
    name: 'database_pool_connections',
    help: 'Database pool connections (in_use, idle, waiting)',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly litellmCalls = new Counter({
    name: 'litellm_calls_total',
    help: 'Calls to the LiteLLM proxy by outcome (success, error, timeout)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly webhookAttempts = new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by outcome (delivered, failed, refused)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly keysActive = new Gauge({ name: 'api_keys_active', help: 'API keys that can authenticate now', registers: [this.registry] });
  readonly keysExpired = new Gauge({
    name: 'api_keys_expired',
    help: 'API keys past their expiry, not deleted',
    registers: [this.registry],
  });
  readonly keysExpiringSoon = new Gauge({
    name: 'api_keys_expiring_soon',
    help: 'Active API keys that expire within the warning window',
    registers: [this.registry],
  });

  readonly cacheMiss = this.cacheLookups.labels('miss');
  private readonly cacheHits = this.cacheLookups.labels('hit');
  private readonly authSuccess: Record<AuthMethod, Counter.Internal> = {
    api_key: this.authentications.labels('api_key', 'success'),
    mcp: this.authentications.labels('mcp', 'success'),
    jwt: this.authentications.labels('jwt', 'success'),
    cookie: this.authentications.labels('cookie', 'success'),
  };
  private readonly collectors: Array<() => Promise<void> | void> = [];

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // Zero series exist from the start, so rate() and alerts see them before the first event.
    for (const outcome of ['success', 'error', 'timeout']) this.litellmCalls.labels(outcome);
    for (const outcome of ['delivered', 'failed', 'refused']) this.webhookAttempts.labels(outcome);
    this.keysRevoked.labels('owner');
  }

  authenticated(method: AuthMethod): void {
    this.pendingSuccess[method]++;
  }

  cacheHit(): void {
    this.pendingCacheHits++;
  }

  /** Hands the hot counters' sums to prom-client; runs when either counter is collected. */
  private collectHot(): void {
    for (const method of Object.keys(this.pendingSuccess) as AuthMethod[]) {
      if (this.pendingSuccess[method] > 0) this.authSuccess[method].inc(this.pendingSuccess[method]);
      this.pendingSuccess[method] = 0;
    }
    if (this.pendingCacheHits > 0) this.cacheHits.inc(this.pendingCacheHits);
    this.pendingCacheHits = 0;
  }

  refused(method: AuthMethod | 'malformed' | 'none', code: string): void {
    this.authentications.labels(method, code).inc();
  }

  /** Work to do before each scrape (gauges read from elsewhere). */
  onCollect(collect: () => Promise<void> | void): void {
    this.collectors.push(collect);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    await Promise.all(this.collectors.map((collect) => Promise.resolve(collect()).catch(() => undefined)));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** Global: every layer records into the one registry; only the health feature serves it. */
@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
