import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
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
