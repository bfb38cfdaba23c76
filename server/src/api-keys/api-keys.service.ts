import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiProblem } from '../common/problem';
import { AppConfig } from '../config/app-config';
import type { Principal } from '../auth/principal';
import type { Scope } from '../auth/scopes';
import { insufficientScope } from '../auth/auth-problems';
import { ApiKey } from './api-key.entity';
import { generateKey, hashKey, hintOf } from './api-key-secret';
import { ApiKeyCreatedResponse, ApiKeyResponse, CreateApiKeyRequest, CurrentCredentialResponse } from './dto/api-key.dto';
import { INVALIDATION_CHANNEL } from './key-invalidation.service';
import { KeyVerifier } from './key-verifier.service';
import { LastUsedTracker } from './last-used.tracker';

const DAY_MS = 86_400_000;

/** Reads an ISO 8601 string; a date-time without zone is UTC (the seed mixed naive and aware times). */
export function parseInstant(value: string): Date {
  const hasTime = /T\d{2}:\d{2}/.test(value);
  const hasZone = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value);
  return new Date(hasTime && !hasZone ? `${value}Z` : value);
}

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly verifier: KeyVerifier,
    private readonly lastUsed: LastUsedTracker,
  ) {}

  async list(userId: string): Promise<ApiKeyResponse[]> {
    // Plain rows, the columns the response needs (the partial index covers the order): for a
    // user with many keys, entity hydration would cost more than the query.
    const rows: Array<{ id: number; name: string; key_hint: string; scopes: string[]; created_at: Date; last_used_at: Date | null; expires_at: Date | null; not_before: Date | null }> =
      await this.dataSource.query(
        `SELECT id, name, key_hint, scopes, created_at, last_used_at, expires_at, not_before
           FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC`,
        [userId],
      );
    return rows.map((row) =>
      this.toResponse({ id: row.id, name: row.name, keyHint: row.key_hint, scopes: row.scopes, createdAt: row.created_at, lastUsedAt: row.last_used_at, expiresAt: row.expires_at, notBefore: row.not_before }),
    );
  }

  async create(principal: Principal, request: CreateApiKeyRequest): Promise<ApiKeyCreatedResponse> {
    const scopes = this.grantableScopes(principal, request.scopes);
    const { expiresAt, notBefore } = this.validityWindow(request);
    const { prefix, hashSecret, maxPerUser } = this.config.apiKeys;
    const key = generateKey(prefix);

    const row = await this.dataSource.transaction(async (tx) => {
      // Serialise creates per user so the cap holds under concurrent requests.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`api_keys:${principal.userId}`]);
      const [{ count }] = await tx.query(
        'SELECT count(*)::int AS count FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL',
        [principal.userId],
      );
      if (count >= maxPerUser) {
        throw ApiProblem.conflict(`You already have ${count} active API keys, the maximum. Delete one before creating another.`, 'key_limit_reached');
      }
      const duplicate = await tx.query(
        'SELECT 1 FROM api_keys WHERE user_id = $1 AND name = $2 AND revoked_at IS NULL',
        [principal.userId, request.name],
      );
      if (duplicate.length > 0) throw duplicateName(request.name);
      const entity = tx.create(ApiKey, {
        userId: principal.userId,
        name: request.name,
        keyHash: hashKey(key, hashSecret),
        keyHint: hintOf(key, prefix),
        scopes,
        createdAt: new Date(),
        lastUsedAt: null,
        expiresAt,
        notBefore,
        revokedAt: null,
      });
      return tx.save(entity);
    }).catch((error: unknown) => {
      // The partial unique index is the backstop should two creates ever race past the lock.
      const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
      if (driverError?.code === '23505' && driverError.constraint === 'api_keys_user_active_name_uq') throw duplicateName(request.name);
      throw error;
    });
    return { ...this.toResponse(row), key };
  }

  async revoke(userId: string, id: number): Promise<void> {
    // Revoke and tell every instance (NOTIFY is delivered when this statement commits).
    const rows: Array<{ key_hash: Buffer }> = await this.dataSource.query(
      `WITH revoked AS (
         UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING key_hash
       )
       SELECT key_hash, pg_notify('${INVALIDATION_CHANNEL}', encode(key_hash, 'base64')) FROM revoked`,
      [id, userId],
    );
    // Another user's key and a missing key look the same: existence must not leak.
    if (rows.length === 0) throw ApiProblem.notFound('API key not found', 'api_key_not_found');
    this.verifier.evict(rows[0].key_hash);
    this.lastUsed.forget(id);
  }

  current(principal: Principal): CurrentCredentialResponse {
    // Plain literals, no spreads: this answers on the hot path of every client's "who am I".
    const scopes = principal.scopes as Scope[];
    const out: CurrentCredentialResponse = principal.apiKey
      ? { id: principal.apiKey.id, name: principal.apiKey.name, user_id: principal.userId, auth_type: principal.authType, scopes }
      : { user_id: principal.userId, auth_type: principal.authType, scopes };
    if (principal.username) out.username = principal.username;
    return out;
  }

  /** "Cannot grant what you do not have": a key may only hand on scopes it holds itself. */
  private grantableScopes(principal: Principal, requested: Scope[] | undefined): Scope[] {
    if (requested === undefined) return [...principal.scopes];
    const missing = requested.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0) throw insufficientScope(missing, `Cannot grant scopes the calling credential does not hold: ${missing.join(', ')}`);
    return requested;
  }

  private validityWindow(request: CreateApiKeyRequest): { expiresAt: Date | null; notBefore: Date | null } {
    const now = Date.now();
    const maxDays = this.config.apiKeys.maxLifetimeDays;
    const expiresAt = request.expires_at ? parseInstant(request.expires_at) : null;
    const notBefore = request.not_before ? parseInstant(request.not_before) : null;
    const invalid = (field: string, message: string) => ApiProblem.unprocessable(`${field} ${message}`, [{ field, message }], 'invalid_validity_window');
    if (expiresAt && Number.isNaN(expiresAt.getTime())) throw invalid('expires_at', 'is not a valid date-time');
    if (notBefore && Number.isNaN(notBefore.getTime())) throw invalid('not_before', 'is not a valid date-time');
    if (expiresAt && expiresAt.getTime() <= now) throw invalid('expires_at', 'must be in the future');
    if (expiresAt && expiresAt.getTime() > now + maxDays * DAY_MS) {
      throw invalid('expires_at', `must be within ${maxDays} days from now`);
    }
    if (notBefore && notBefore.getTime() > now + maxDays * DAY_MS) throw invalid('not_before', `must be within ${maxDays} days from now`);
    if (notBefore && expiresAt && notBefore >= expiresAt) throw invalid('not_before', 'must be before expires_at');
    return { expiresAt, notBefore };
  }

  /** The single place where a row becomes a response: hash and revocation never leave. */
  private toResponse(row: Pick<ApiKey, 'id' | 'name' | 'keyHint' | 'scopes' | 'createdAt' | 'lastUsedAt' | 'expiresAt' | 'notBefore'>): ApiKeyResponse {
    const pending = this.lastUsed.pendingUse(row.id);
    const lastUsed = pending && (!row.lastUsedAt || pending > row.lastUsedAt) ? pending : row.lastUsedAt;
    return {
      id: row.id,
      name: row.name,
      key_hint: row.keyHint,
      scopes: row.scopes as Scope[],
      created_at: row.createdAt.toISOString(),
      last_used_at: lastUsed ? lastUsed.toISOString() : null,
      expires_at: row.expiresAt ? row.expiresAt.toISOString() : null,
      not_before: row.notBefore ? row.notBefore.toISOString() : null,
    };
  }
}

function duplicateName(name: string): ApiProblem {
  return ApiProblem.conflict(`You already have an active API key named "${name}". Choose another name.`, 'duplicate_name', [
    { field: 'name', message: 'is already used by another of your active keys' },
  ]);
}
