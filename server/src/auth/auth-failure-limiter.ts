import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { AppConfig } from '../config/app-config';
import { clientKey } from '../config/trusted-proxies';

/**
 * Counts refused credentials per client (an IPv4 address, or an IPv6 /64). Past the limit,
 * requests from that client that carry a credential get 429 until the window ends, before any
 * verification work.
 *
 * With a PostgreSQL server the count lives in the database (rate-limiter-flexible's Postgres
 * store, table `auth_failures`), so N instances allow the limit, not N times it: each failure
 * is counted there, and the instance that sees the count pass the limit blocks the client (at
 * most one more attempt per instance). On the embedded database (one instance) it stays in
 * memory. Either way a local map is the pre-check: clients without a recent failure never
 * touch the store, and entries are swept when their window ends, so the map stays as large as
 * the set of clients failing right now.
 */
@Injectable()
export class AuthFailureLimiter implements OnApplicationShutdown {
  private readonly limiter: RateLimiterAbstract;
  /** Client key → end of its failure window (epoch ms). */
  private readonly failing = new Map<string, number>();
  /** Client key → full verifications running now (only clients with one running are here). */
  private readonly verifying = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly config: AppConfig,
    dataSource: DataSource,
  ) {
    const { limit, windowSeconds } = config.authFailures;
    this.limiter = config.database.url
      ? new RateLimiterPostgres({
          storeClient: (dataSource.driver as PostgresDriver).master,
          tableName: 'auth_failures',
          // Created by a migration, never by the library.
          tableCreated: true,
          clearExpiredByTimeout: true,
          keyPrefix: 'auth',
          points: limit,
          duration: windowSeconds,
        })
      : new RateLimiterMemory({ points: limit, duration: windowSeconds });
    this.sweeper = setInterval(() => this.sweep(), Math.min(60, windowSeconds) * 1000);
    this.sweeper.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Synchronous pre-check: false for any client without a recent failure. */
  mayBeBlocked(address: string): boolean {
    // With no client failing (the usual state) the address's network is not even worked out.
    return this.failing.size > 0 && this.failing.has(clientKey(address));
  }

  /** Seconds until this client may try again, or 0 when it may try now. */
  async retryAfter(address: string): Promise<number> {
    const key = clientKey(address);
    const until = this.failing.get(key);
    if (until === undefined) return 0;
    if (until < Date.now()) {
      this.failing.delete(key);
      return 0;
    }
    const state = await this.limiter.get(key);
    if (!state || state.consumedPoints < this.config.authFailures.limit) return 0;
    return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
  }

  async recordFailure(address: string): Promise<void> {
    const key = clientKey(address);
    const res = await this.limiter.consume(key).catch((rejection: unknown) => {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return rejection;
    });
    this.failing.set(key, Date.now() + res.msBeforeNext);
  }

  /**
   * Starts a full verification for this client, or answers false when it already has the
   * configured number running (each holds a database lookup or an RSA check). Pair with `end`.
   */
  beginVerification(address: string): boolean {
    const key = clientKey(address);
    const running = this.verifying.get(key) ?? 0;
    if (running >= this.config.authFailures.maxConcurrentVerifications) return false;
    this.verifying.set(key, running + 1);
    return true;
  }

  endVerification(address: string): void {
    const key = clientKey(address);
    const running = (this.verifying.get(key) ?? 1) - 1;
    if (running <= 0) this.verifying.delete(key);
    else this.verifying.set(key, running);
  }

  /** Clients whose window has ended leave the map (the store expires its own rows). */
  sweep(now = Date.now()): void {
    for (const [key, until] of this.failing) if (until < now) this.failing.delete(key);
  }

  /** How many clients the pre-check currently remembers. */
  get size(): number {
    return this.failing.size;
  }
}
