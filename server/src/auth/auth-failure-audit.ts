import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { AuditEventsRepository } from '../database/repositories/audit-events.repository';

const MINUTE_MS = 60_000;
/** Past this many addresses in one minute, the rest are summed in one event (a distributed attack must not flood the log). */
const MAX_ADDRESSES_PER_MINUTE = 1000;

/**
 * Refused credentials, for the audit log: counted per client address in memory and written as
 * one `auth.failures` event per address and minute, never a row per failure.
 */
@Injectable()
export class AuthFailureAudit implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuthFailureAudit.name);
  private counts = new Map<string, { count: number; codes: Record<string, number> }>();
  private windowStart = Date.now();
  private timer?: NodeJS.Timeout;
  /** Replaced keys whose late use this instance recorded in the last hour. */
  private readonly rotatedRecorded = new LRUCache<number, true>({ max: 10_000, ttl: 3_600_000 });

  constructor(
    private readonly audit: AuditEventsRepository,
    private readonly dataSource: DataSource,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.flush(), MINUTE_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  record(address: string, code: string): void {
    const key = this.counts.has(address) || this.counts.size < MAX_ADDRESSES_PER_MINUTE ? address : 'other addresses';
    let entry = this.counts.get(key);
    if (!entry) {
      entry = { count: 0, codes: {} };
      this.counts.set(key, entry);
    }
    entry.count++;
    entry.codes[code] = (entry.codes[code] ?? 0) + 1;
  }

  /**
   * A replaced key presented after its grace period usually means a copy is still deployed
   * somewhere: recorded as `api_key.rotated_key_used` (and so sent to the owner's webhooks) at
   * most once per key and hour, across instances; repeats within the hour cost no query here.
   */
  rotatedKeyUsed(key: { id: number; userId: string }, address: string): void {
    if (this.rotatedRecorded.has(key.id)) return;
    this.rotatedRecorded.set(key.id, true);
    this.audit.recordRotatedKeyUse(key.id, key.userId, address).catch((error: unknown) => {
      this.rotatedRecorded.delete(key.id);
      this.logger.warn({ err: error }, `could not record the late use of replaced key ${key.id}`);
    });
  }

  async flush(): Promise<void> {
    if (this.counts.size === 0) return;
    const counts = this.counts;
    const windowStart = new Date(this.windowStart).toISOString();
    this.counts = new Map();
    this.windowStart = Date.now();
    try {
      await this.dataSource.transaction(async (tx) => {
        for (const [address, { count, codes }] of counts) {
          await this.audit.record(tx, {
            type: 'auth.failures',
            actor: { address: address === 'other addresses' ? undefined : address },
            subject: {},
            details: { count, codes, window_start: windowStart, ...(address === 'other addresses' ? { aggregated: true } : {}) },
          });
        }
      });
    } catch (error) {
      this.logger.warn({ err: error }, `could not record ${counts.size} auth failure summaries`);
    }
  }
}
