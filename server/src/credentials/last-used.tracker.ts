import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiKeysRepository } from '../database/repositories/api-keys.repository';

/**
 * Records `last_used_at` without a database write per request (the seed's scaling wall): uses
 * are collected in memory and written in one batched UPDATE, at most once per key per
 * `LAST_USED_WRITE_INTERVAL_MS`. A key's first use is written within a second, so the console
 * shows it promptly; what is pending at shutdown is flushed.
 */
@Injectable()
export class LastUsedTracker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LastUsedTracker.name);
  private readonly pending = new Map<number, number>();
  private readonly lastWritten = new Map<number, number>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    const tick = Math.max(50, Math.min(1000, this.config.apiKeys.lastUsedWriteIntervalMs || 1000));
    this.timer = setInterval(() => void this.flush(false), tick);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush(true);
  }

  touch(keyId: number, at = Date.now()): void {
    this.pending.set(keyId, at);
  }

  /** The newest use not yet written, so lists are accurate between writes. */
  pendingUse(keyId: number): Date | undefined {
    const at = this.pending.get(keyId);
    return at === undefined ? undefined : new Date(at);
  }

  forget(keyId: number): void {
    this.pending.delete(keyId);
  }

  /** Writes every pending use whose key is due (or all of them, at shutdown). */
  async flush(all: boolean): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.doFlush(all).finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async doFlush(all: boolean): Promise<void> {
    const now = Date.now();
    const interval = this.config.apiKeys.lastUsedWriteIntervalMs;
    const due: Array<[number, number]> = [];
    for (const [id, at] of this.pending) {
      const written = this.lastWritten.get(id);
      if (all || written === undefined || now - written >= interval) due.push([id, at]);
    }
    // Forget keys not written for a whole interval: they are due anyway, and the map stays
    // bounded by the keys used within one interval.
    for (const [id, written] of this.lastWritten) if (now - written >= interval) this.lastWritten.delete(id);
    if (due.length === 0) return;
    for (const [id] of due) {
      this.pending.delete(id);
      this.lastWritten.set(id, now);
    }
    for (let i = 0; i < due.length; i += 1000) {
      const batch = due.slice(i, i + 1000);
      try {
        await this.repository.recordLastUse(batch);
      } catch (error) {
        // Put them back: a later flush retries (the database may be restarting).
        for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
        this.logger.warn({ err: error }, `could not record last use of ${batch.length} key(s)`);
      }
    }
  }
}
