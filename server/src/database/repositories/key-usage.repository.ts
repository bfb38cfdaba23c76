import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface UsageCount {
  keyId: number;
  /** Start of the hour (UTC), epoch ms. */
  hour: number;
  requests: number;
  failures: number;
}

/** The `api_key_usage_hourly` table: requests and refusals per key and hour, added in batches. */
@Injectable()
export class KeyUsageRepository {
  constructor(private readonly dataSource: DataSource) {}

  async add(counts: UsageCount[]): Promise<void> {
    if (counts.length === 0) return;
    await this.dataSource.query(
      `INSERT INTO api_key_usage_hourly (key_id, hour, requests, failures)
       SELECT * FROM unnest($1::int[], $2::timestamptz[], $3::int[], $4::int[])
       ON CONFLICT (key_id, hour) DO UPDATE
         SET requests = api_key_usage_hourly.requests + EXCLUDED.requests,
             failures = api_key_usage_hourly.failures + EXCLUDED.failures`,
      [counts.map((c) => c.keyId), counts.map((c) => new Date(c.hour)), counts.map((c) => c.requests), counts.map((c) => c.failures)],
    );
  }

  /** The key's hours from `since` on, oldest first. */
  async hours(keyId: number, since: Date): Promise<Array<{ hour: Date; requests: number; failures: number }>> {
    return this.dataSource.query(
      'SELECT hour, requests, failures FROM api_key_usage_hourly WHERE key_id = $1 AND hour >= $2 ORDER BY hour',
      [keyId, since],
    );
  }
}
