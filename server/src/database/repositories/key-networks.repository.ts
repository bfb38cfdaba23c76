import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface NetworkSeen {
  keyId: number;
  /** An IPv4 address or an IPv6 /64. */
  network: string;
  /** The first address seen from it in this batch. */
  address: string;
  at: number;
}

/**
 * The `api_key_networks` table. Recording a batch of sightings also writes, in the same
 * statement, an `api_key.used_from_new_address` event for each network the key had not been
 * used from in the last 30 days — except a key's very first one (its first use is not news).
 */
@Injectable()
export class KeyNetworksRepository {
  constructor(private readonly dataSource: DataSource) {}

  async record(seen: NetworkSeen[]): Promise<number> {
    if (seen.length === 0) return 0;
    const rows: unknown[] = await this.dataSource.query(
      `WITH input AS (
         SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::timestamptz[]) AS t(key_id, network, address, seen)
       ),
       prior AS (
         SELECT n.key_id, n.network, n.last_seen FROM api_key_networks n JOIN input i ON i.key_id = n.key_id AND i.network = n.network
       ),
       upsert AS (
         INSERT INTO api_key_networks (key_id, network, last_seen)
         SELECT key_id, network, seen FROM input
         ON CONFLICT (key_id, network) DO UPDATE SET last_seen = GREATEST(api_key_networks.last_seen, EXCLUDED.last_seen)
       ),
       fresh AS (
         SELECT i.* FROM input i
           LEFT JOIN prior p ON p.key_id = i.key_id AND p.network = i.network
          WHERE (p.last_seen IS NULL OR p.last_seen < i.seen - interval '30 days')
            AND EXISTS (SELECT 1 FROM api_key_networks o WHERE o.key_id = i.key_id AND o.network <> i.network)
       )
       INSERT INTO audit_events (occurred_at, type, actor_user_id, actor_auth_type, actor_key_id, subject_user_id, subject_key_id,
                                 subject_key_name, subject_key_hint, client_address, details)
       SELECT f.seen, 'api_key.used_from_new_address', k.user_id, 'api_key', k.id, k.user_id, k.id, k.name, k.key_hint, f.address,
              jsonb_build_object('network', f.network)
         FROM fresh f JOIN api_keys k ON k.id = f.key_id
       RETURNING id`,
      [seen.map((s) => s.keyId), seen.map((s) => s.network), seen.map((s) => s.address.slice(0, 64)), seen.map((s) => new Date(s.at))],
    );
    return rows.length;
  }
}
