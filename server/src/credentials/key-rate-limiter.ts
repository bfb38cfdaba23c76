import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';

const WINDOW_MS = 60_000;
/** How often an instance adds its new counts to the shared store and reads the totals back. */
export const RATE_SYNC_INTERVAL_MS = 200;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Seconds until the window ends (the `t` of the RateLimit header, and Retry-After). */
  resetSeconds: number;
}

interface Window {
  start: number;
  /** The shared total at the last sync (every instance's requests, this one's included). */
  base: number;
  /** Admitted here since the last sync began. */
  pending: number;
  /** Admitted here and being added to the store right now. */
  flushing: number;
}

/**
 * Per-key limits (`rate_limit_per_minute`), fixed one-minute windows.
 *
 * The decision is synchronous and in memory, so a limited key costs the hot path a map lookup,
 * not a query. With a PostgreSQL server, every instance adds what it admitted to
 * `api_key_rate_windows` every 200 ms and reads the shared total back; the limit then holds
 * across instances within a tolerance: past the limit, each other instance can admit what it
 * sees in one sync interval before it learns the total. On the embedded database (one
 * instance) the count is exact.
 */
@Injectable()
export class KeyRateLimiter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(KeyRateLimiter.name);
  private readonly windows = new Map<number, Window>();
  private readonly shared: boolean;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private lastCleanup = 0;

  constructor(
    config: AppConfig,
    private readonly dataSource: DataSource,
  ) {
    this.shared = Boolean(config.database.url);
  }

  onModuleInit(): void {
    // Shared: the sync drops past windows as it goes. Embedded: nothing else would, so a key
    // used once and never again would keep its window for the life of the process.
    this.timer = this.shared ? setInterval(() => void this.sync(), RATE_SYNC_INTERVAL_MS) : setInterval(() => this.sweep(), WINDOW_MS);
    this.timer.unref();
  }

  /** Keys with a window in memory (for tests and the curious). */
  get trackedKeys(): number {
    return this.windows.size;
  }

  /** Forgets windows of past minutes (their counts no longer decide anything). */
  sweep(now = Date.now()): void {
    const current = now - (now % WINDOW_MS);
    for (const [id, window] of this.windows) if (window.start < current) this.windows.delete(id);
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
  }

  consume(keyId: number, limit: number, now = Date.now()): RateDecision {
    const start = now - (now % WINDOW_MS);
    let window = this.windows.get(keyId);
    if (!window || window.start !== start) {
      window = { start, base: 0, pending: 0, flushing: 0 };
      this.windows.set(keyId, window);
    }
    const used = window.base + window.pending + window.flushing;
    const resetSeconds = Math.max(1, Math.ceil((start + WINDOW_MS - now) / 1000));
    if (used >= limit) return { allowed: false, limit, remaining: 0, resetSeconds };
    window.pending++;
    return { allowed: true, limit, remaining: limit - used - 1, resetSeconds };
  }

  /** Adds this instance's new counts to the store and learns the totals (shared mode). */
  sync(): Promise<void> {
    if (this.syncing) return this.syncing;
    this.syncing = this.flush().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async flush(): Promise<void> {
    const current = Date.now() - (Date.now() % WINDOW_MS);
    const ids: number[] = [];
    const starts: number[] = [];
    const counts: number[] = [];
    for (const [id, window] of this.windows) {
      if (window.start < current) {
        this.windows.delete(id);
        continue;
      }
      if (window.pending === 0) continue;
      window.flushing = window.pending;
      window.pending = 0;
      ids.push(id);
      starts.push(window.start);
      counts.push(window.flushing);
    }
    if (ids.length > 0) {
      try {
        const rows = (await this.dataSource.query(
          `INSERT INTO api_key_rate_windows (key_id, window_start, count)
           SELECT * FROM unnest($1::int[], $2::bigint[], $3::int[])
           ON CONFLICT (key_id, window_start) DO UPDATE SET count = api_key_rate_windows.count + EXCLUDED.count
           RETURNING key_id, window_start, count`,
          [ids, starts, counts],
        )) as Array<{ key_id: number; window_start: string; count: number }>;
        for (const row of rows) {
          const window = this.windows.get(row.key_id);
          if (window && window.start === Number(row.window_start)) {
            window.base = row.count;
            window.flushing = 0;
          }
        }
      } catch (error) {
        // Keep the counts for the next sync; meanwhile this instance still limits on its own view.
        for (const id of ids) {
          const window = this.windows.get(id);
          if (window) {
            window.pending += window.flushing;
            window.flushing = 0;
          }
        }
        this.logger.warn({ err: error }, 'could not sync per-key rate counts; retrying');
      }
    }
    if (current - this.lastCleanup >= WINDOW_MS) {
      this.lastCleanup = current;
      await this.dataSource.query('DELETE FROM api_key_rate_windows WHERE window_start < $1', [current - WINDOW_MS]).catch(() => undefined);
    }
  }
}
