import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client, Notification } from 'pg';
import type { EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';

const INVALIDATION_CHANNEL = 'key_invalidation';
/** A change of the organisation's key policy: every instance re-reads it. */
const POLICY_CHANNEL = 'key_policy';
/** While the listener is down, a cached key is trusted this long at most. */
export const DISCONNECTED_TTL_MS = 1000;

type Listener = (keyHashBase64: string) => void;

/**
 * Cross-instance cache invalidation, both halves. Revoking or rotating a key publishes its
 * stored hash on `key_invalidation` inside the change's own transaction (NOTIFY is delivered on
 * commit, never for a rolled-back change); every instance LISTENs on a dedicated connection and
 * evicts it from its verification cache, so a deletion on one instance stops the key on all of
 * them within milliseconds. If the connection drops, caches fall back to a 1 s trust window and
 * are cleared on reconnect (notifications may have been missed); reconnection retries with
 * backoff. Only with a PostgreSQL server: the embedded database has a single instance.
 */
@Injectable()
export class KeyInvalidationService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(KeyInvalidationService.name);
  private readonly listeners: Listener[] = [];
  private readonly resetters: Array<() => void> = [];
  private readonly policyListeners: Array<() => void> = [];
  private client?: Client;
  private connected = false;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  private backoffMs = 250;

  constructor(private readonly config: AppConfig) {}

  /** True when caches may trust entries for their full TTL. */
  get live(): boolean {
    return this.connected || !this.config.database.url;
  }

  /** Announces revoked or replaced keys to every instance; call inside the change's transaction. */
  async publish(tx: EntityManager, storedHashes: Buffer[]): Promise<void> {
    for (const hash of storedHashes) await tx.query(`SELECT pg_notify($1, encode($2::bytea, 'base64'))`, [INVALIDATION_CHANNEL, hash]);
  }

  /**
   * Evicts the keys on this instance at once; call after the transaction committed (evicting
   * earlier would let a concurrent lookup cache the row as it was before the change).
   */
  evictLocally(storedHashes: Buffer[]): void {
    for (const hash of storedHashes) {
      const base64 = hash.toString('base64');
      for (const evict of this.listeners) evict(base64);
    }
  }

  /** Tells every instance (on commit) that the key policy changed; call inside the change's transaction. */
  async publishPolicyChange(tx: EntityManager): Promise<void> {
    await tx.query(`SELECT pg_notify($1, '')`, [POLICY_CHANNEL]);
  }

  /** Called on a policy change from any instance and after every (re)connection of the listener. */
  onPolicyChange(listener: () => void): void {
    this.policyListeners.push(listener);
  }

  onEvict(listener: Listener, reset: () => void): void {
    this.listeners.push(listener);
    this.resetters.push(reset);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.database.url) await this.connect();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.config.database.url,
      connectionTimeoutMillis: this.config.database.connectTimeoutMs,
    });
    client.on('notification', (message: Notification) => {
      if (message.channel === INVALIDATION_CHANNEL && message.payload) for (const evict of this.listeners) evict(message.payload);
      if (message.channel === POLICY_CHANNEL) for (const reload of this.policyListeners) reload();
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${INVALIDATION_CHANNEL}`);
      await client.query(`LISTEN ${POLICY_CHANNEL}`);
      this.client = client;
      // Anything cached before now may have been revoked (or the policy changed) while nobody listened.
      for (const reset of this.resetters) reset();
      for (const reload of this.policyListeners) reload();
      this.connected = true;
      this.backoffMs = 250;
      this.logger.log('listening for key invalidations');
    } catch (error) {
      client.end().catch(() => undefined);
      this.logger.warn(`cannot listen for key invalidations (${(error as Error).message}); retrying`);
      this.scheduleReconnect();
    }
  }

  private lost(client: Client): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.connected = false;
    if (!this.stopped) {
      this.logger.warn('key invalidation listener lost its connection; caches trust entries for 1 s until it is back');
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, 5000);
  }
}
