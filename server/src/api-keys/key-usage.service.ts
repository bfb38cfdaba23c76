import { Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ApiProblem } from '../common/problem';
import { LastUsedTracker } from '../credentials/last-used.tracker';
import { ApiKeysRepository } from '../database/repositories/api-keys.repository';
import { KeyUsageRepository } from '../database/repositories/key-usage.repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

export class UsageBucket {
  @ApiProperty({ type: 'string', format: 'date-time', description: 'Start of the hour or day (UTC)' }) start: string;
  @ApiProperty({ type: 'integer', description: 'Requests the key authenticated' }) requests: number;
  @ApiProperty({ type: 'integer', description: 'Requests refused with this key (expired, deleted, not yet valid)' }) failures: number;
}

export class KeyUsageResponse {
  @ApiProperty({ type: 'integer' }) key_id: number;
  @ApiProperty({ enum: ['hour', 'day'], description: 'Hourly buckets for 7 days, daily for 30' }) granularity: 'hour' | 'day';
  @ApiProperty({ type: [UsageBucket], description: 'Every bucket of the period, oldest first, zeros included' })
  buckets: UsageBucket[];
}

/** A key's requests over the last 7 days (hourly) or 30 days (daily), from the hourly table. */
@Injectable()
export class KeyUsageService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly usage: KeyUsageRepository,
    private readonly lastUsed: LastUsedTracker,
  ) {}

  async usageOf(userId: string | null, keyId: number, days: 7 | 30, now = Date.now()): Promise<KeyUsageResponse> {
    // Another user's key and a missing key look the same; null (an administrator) reads any key.
    const exists = userId === null ? await this.keys.exists(keyId) : await this.keys.ownedBy(userId, keyId);
    if (!exists) throw ApiProblem.notFound('API key not found', 'api_key_not_found');
    const granularity = days === 7 ? 'hour' : 'day';
    const size = granularity === 'hour' ? HOUR_MS : DAY_MS;
    const end = now - (now % size) + size;
    const start = end - days * DAY_MS;
    const totals = new Map<number, { requests: number; failures: number }>();
    const add = (at: number, requests: number, failures: number) => {
      const bucket = at - (at % size);
      const total = totals.get(bucket) ?? { requests: 0, failures: 0 };
      total.requests += requests;
      total.failures += failures;
      totals.set(bucket, total);
    };
    for (const row of await this.usage.hours(keyId, new Date(start))) add(new Date(row.hour).getTime(), row.requests, row.failures);
    // This instance's counts of the last moments, not yet written.
    for (const pending of this.lastUsed.pendingUsage(keyId))
      if (pending.hour >= start) add(pending.hour, pending.requests, pending.failures);
    const buckets: UsageBucket[] = [];
    for (let at = start; at < end; at += size) {
      const total = totals.get(at);
      buckets.push({ start: new Date(at).toISOString(), requests: total?.requests ?? 0, failures: total?.failures ?? 0 });
    }
    return { key_id: keyId, granularity, buckets };
  }
}
