import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiKeysRepository } from '../database/repositories/api-keys.repository';
import { KeyUsageRepository, type UsageCount } from '../database/repositories/key-usage.repository';
import { KeyNetworksRepository, type NetworkSeen } from '../database/repositories/key-networks.repository';
import { clientKey } from '../config/trusted-proxies';
import { Metrics } from '../metrics/metrics';

const HOUR_MS = 3_600_000;
/** Bounds on the sightings held between flushes: a burst from many places cannot grow memory. */
const MAX_KEYS_WITH_SIGHTINGS = 10_000;
const MAX_NETWORKS_PER_KEY = 16;
/**
 * How long a written use stays visible here after its write began. A list whose query read the
 * row just before the write committed, and checks this tracker just after, still shows the use.
 */
const WRITTEN_USE_VISIBLE_MS = 10_000;

/**
 * Records `last_used_at` without a database write per request (the seed's scaling wall): uses
 * are collected in memory and written in one batched UPDATE, at most once per key per
 * `LAST_USED_WRITE_INTERVAL_MS`. A key's first use is written within a second, so the console
 * shows it promptly; what is pending at shutdown is flushed. Per-key usage (requests and
 * refusals per hour) is counted in memory too and added to `api_key_usage_hourly` with the same
 * rhythm: one batched statement per interval, never a write per request.
 */
@Injectable()
export class LastUsedTracker implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LastUsedTracker.name);
  private readonly pending = new Map<number, number>();
  /** Uses handed to the database (written or being written), by key: the use's time and when its write began. */
  private readonly written = new Map<number, { at: number; writtenAt: number }>();
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** Counts not yet written, by hour and key (numbers: no key string built per request). */
  private usage = new Map<number, Map<number, UsageCount>>();
  private usageWrittenAt = Date.now();
  /** Networks each key was used from since the last flush (address, or IPv6 /64). */
  private sightings = new Map<number, Map<string, NetworkSeen>>();
  /** Each recent address's network, so a request from a known address costs one lookup. */
  private readonly networkOf = new Map<string, string>();

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly usageRepository: KeyUsageRepository,
    private readonly networksRepository: KeyNetworksRepository,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
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

  /** A successful use: last-used time and the hour's request count. */
  touch(keyId: number, at = Date.now()): void {
    this.pending.set(keyId, at);
    this.count(keyId, at).requests++;
  }

  /** Where a successful use came from; new networks become audit events at the next flush. */
  seenFrom(keyId: number, address: string, at?: number): void {
    let networks = this.sightings.get(keyId);
    if (!networks) {
      if (this.sightings.size >= MAX_KEYS_WITH_SIGHTINGS) return;
      networks = new Map();
      this.sightings.set(keyId, networks);
    }
    let network = this.networkOf.get(address);
    if (network === undefined) {
      if (this.networkOf.size >= MAX_KEYS_WITH_SIGHTINGS) this.networkOf.clear();
      network = clientKey(address);
      this.networkOf.set(address, network);
    }
    if (!networks.has(network) && networks.size < MAX_NETWORKS_PER_KEY)
      networks.set(network, { keyId, network, address, at: at ?? Date.now() });
  }

  /** A refused request with a known key (expired, deleted, not yet valid). */
  countFailure(keyId: number, at = Date.now()): void {
    this.count(keyId, at).failures++;
  }

  /** This instance's counts not yet written, for a usage answer that includes the last seconds. */
  pendingUsage(keyId: number): UsageCount[] {
    return [...this.usage.values()].flatMap((byKey) => byKey.get(keyId) ?? []);
  }

  private count(keyId: number, at: number): UsageCount {
    const hour = at - (at % HOUR_MS);
    let byKey = this.usage.get(hour);
    if (!byKey) {
      byKey = new Map();
      this.usage.set(hour, byKey);
    }
    let count = byKey.get(keyId);
    if (!count) {
      count = { keyId, hour, requests: 0, failures: 0 };
      byKey.set(keyId, count);
    }
    return count;
  }

  /** Whether any use is waiting to be written or was written moments ago (lists then add it to what the database says). */
  get hasPendingUses(): boolean {
    return this.pending.size > 0 || this.written.size > 0;
  }

  /**
   * The newest use this instance knows of that a read of the database may miss: one not yet
   * written, being written, or written in the last seconds (a query may have read the row just
   * before that write committed). Lists show the later of this and the stored time.
   */
  pendingUse(keyId: number): Date | undefined {
    const pending = this.pending.get(keyId);
    const written = this.written.get(keyId)?.at;
    const at = pending === undefined ? written : written === undefined ? pending : Math.max(pending, written);
    return at === undefined ? undefined : new Date(at);
  }

  forget(keyId: number): void {
    this.pending.delete(keyId);
    this.written.delete(keyId);
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
    if ((this.usage.size > 0 || this.sightings.size > 0) && (all || now - this.usageWrittenAt >= interval)) await this.flushUsage(now);
    const due: Array<[number, number]> = [];
    for (const [id, at] of this.pending) {
      const written = this.written.get(id);
      if (all || written === undefined || now - written.writtenAt >= interval) due.push([id, at]);
    }
    // Forget keys not written for a whole interval (and a few seconds): they are due anyway, and
    // the map stays bounded by the keys used within one interval. Flushes run one at a time, so
    // every write begun before this one has returned.
    const forgetBefore = now - Math.max(interval, WRITTEN_USE_VISIBLE_MS);
    for (const [id, written] of this.written) if (written.writtenAt <= forgetBefore) this.written.delete(id);
    if (due.length === 0) return;
    for (const [id, at] of due) {
      // Out of `pending` but still visible through `written` while the UPDATE is in flight.
      this.pending.delete(id);
      this.written.set(id, { at, writtenAt: now });
    }
    for (let i = 0; i < due.length; i += 1000) {
      const batch = due.slice(i, i + 1000);
      try {
        await this.repository.recordLastUse(batch);
        this.metrics.lastUsedWrites.inc(batch.length);
      } catch (error) {
        // Put them back: a later flush retries (the database may be restarting).
        for (const [id, at] of batch) if (!this.pending.has(id)) this.pending.set(id, at);
        this.logger.warn({ err: error }, `could not record last use of ${batch.length} key(s)`);
      }
    }
  }

  private async flushUsage(now: number): Promise<void> {
    const counts = [...this.usage.values()].flatMap((byKey) => [...byKey.values()]);
    const seen = [...this.sightings.values()].flatMap((networks) => [...networks.values()]);
    this.usage = new Map();
    this.sightings = new Map();
    this.usageWrittenAt = now;
    try {
      await this.networksRepository.record(seen);
    } catch (error) {
      // Sightings are advisory: a lost batch only delays a "new address" event to the next use.
      this.logger.warn({ err: error }, `could not record ${seen.length} key sighting(s)`);
    }
    try {
      await this.usageRepository.add(counts);
    } catch (error) {
      // Put them back, added to what arrived meanwhile: a later flush retries.
      for (const c of counts) {
        const slot = this.count(c.keyId, c.hour);
        slot.requests += c.requests;
        slot.failures += c.failures;
      }
      this.logger.warn({ err: error }, `could not record usage of ${counts.length} key-hour(s)`);
    }
  }
}
