import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { DataSource } from 'typeorm';
import { insufficientScope } from '../auth/auth-problems';
import { ApiProblem } from '../common/problem';
import { AppConfig } from '../config/app-config';
import { KeyInvalidationService } from '../credentials/key-invalidation.service';
import { type KeyPolicy, KeyPolicyService } from '../credentials/key-policy.service';
import { generateKey, hashKey, hintOf } from '../credentials/key-format';
import { LastUsedTracker } from '../credentials/last-used.tracker';
import type { Principal } from '../credentials/principal';
import { type Scope } from '../credentials/scopes';
import { ApiKeyRecord, ApiKeysRepository } from '../database/repositories/api-keys.repository';
import { AuditEventsRepository, type AuditActor } from '../database/repositories/audit-events.repository';
import { KnownUsersRepository } from '../database/repositories/key-policy.repository';
import { Metrics } from '../metrics/metrics';
import {
  ApiKeyCreatedResponse,
  ApiKeyResponse,
  ApiKeyRotatedResponse,
  type ApiKeyStatus,
  CreateApiKeyRequest,
  CurrentCredentialResponse,
} from './dto/api-key.dto';

const DAY_MS = 86_400_000;

/** Reads an ISO 8601 string; a date-time without zone is UTC (the seed mixed naive and aware times). */
export function parseInstant(value: string): Date {
  const hasTime = /T\d{2}:\d{2}/.test(value);
  const hasZone = /(Z|[+-]\d{2}(:?\d{2})?)$/i.test(value);
  return new Date(hasTime && !hasZone ? `${value}Z` : value);
}

/** A user's whole list, rendered, with what says whether it is still true. */
interface RenderedList {
  userId: string;
  body: Buffer;
  ids: number[];
  /** Each key's JSON in `body`: where it starts, how many bytes; and its list position. */
  offsets: number[];
  sizes: number[];
  positions: string[];
  version: string | null;
  validUntil: number;
  warningDays: number;
}

const EMPTY_LIST = Buffer.from('[]');

/**
 * The text's UTF-8 in memory of its own: `Buffer.from` puts a small text in a slice of a shared
 * 8 kB pool, which a kept list would keep alive whole while the cache counts a few bytes.
 */
function ownBuffer(text: string): Buffer {
  const buffer = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  buffer.write(text);
  return buffer;
}

/**
 * `limit` keys after the cursor's position (creation time to the microsecond, then id; newest
 * first), cut from a kept whole list: what the page's SQL would select, without the database.
 */
function pageOf(
  list: RenderedList,
  limit: number,
  after: { createdAt: string; id: number } | undefined,
): { body: Buffer; ids: number[]; next?: { createdAt: string; id: number } } {
  let start = 0;
  // Positions have one fixed-width format, so comparing the strings compares the times.
  if (after) {
    while (
      start < list.ids.length &&
      !(list.positions[start] < after.createdAt || (list.positions[start] === after.createdAt && list.ids[start] < after.id))
    )
      start++;
  }
  const end = Math.min(list.ids.length, start + limit);
  if (start >= end) return { body: EMPTY_LIST, ids: [] };
  const from = list.offsets[start];
  const to = list.offsets[end - 1] + list.sizes[end - 1];
  return {
    body: Buffer.concat([Buffer.from('['), list.body.subarray(from, to), Buffer.from(']')]),
    ids: list.ids.slice(start, end),
    next: end < list.ids.length ? { createdAt: list.positions[end - 1], id: list.ids[end - 1] } : undefined,
  };
}

/** Bound on the rendered lists kept (a user with 1,000 keys is about 264 kB). */
const RENDERED_LISTS_MAX_BYTES = 32 * 1024 * 1024;

@Injectable()
export class ApiKeysService {
  /** Each principal's `GET /api/keys/current` body (see currentJson). */
  private readonly currentBodies = new WeakMap<Principal, Buffer>();
  private readonly renderedLists = new LRUCache<string, RenderedList>({
    maxSize: RENDERED_LISTS_MAX_BYTES,
    sizeCalculation: (list) => list.body.length + 80 * list.ids.length + 100,
  });

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
    private readonly keys: ApiKeysRepository,
    private readonly invalidation: KeyInvalidationService,
    private readonly lastUsed: LastUsedTracker,
    private readonly audit: AuditEventsRepository,
    private readonly metrics: Metrics,
    private readonly policy: KeyPolicyService,
    private readonly knownUsers: KnownUsersRepository,
  ) {}

  /**
   * A user's active keys as the JSON bytes to send: the whole list (the seed's plain array), or
   * with `page` one page of it and the cursor of the next, if there is one. Built by PostgreSQL
   * (see ApiKeysRepository.listActiveJson), then, only if this instance holds uses of the listed
   * keys the database may not show yet, parsed once to bring their `last_used_at` up to date, as
   * `toResponse` does. The cursor names the last key's position (creation time to the
   * microsecond, id), so keys created or deleted meanwhile neither repeat nor vanish from the
   * pages after it.
   *
   * The whole unfiltered list is kept, rendered, per user, and sent again while the user's list
   * version in the database is still the one read with it and no key's status has changed with
   * the clock: one indexed read instead of building 264 kB of JSON. A trigger replaces the version
   * in the writing transaction, on any instance and any code path, so the next request anywhere
   * sees a change; versions are unique across users (see the ApiKeyListVersions migration).
   */
  async listJson(
    userId: string,
    options: { status?: ApiKeyStatus; page?: { limit: number; after?: string } } = {},
  ): Promise<{ body: Buffer; next?: string }> {
    const { status, page } = options;
    const after = page?.after === undefined ? undefined : decodeCursor(page.after);
    const warningDays = this.policy.current().expiryWarningDays;
    let list: { body: Buffer; ids: number[]; next?: { createdAt: string; id: number } } | undefined;
    if (status === undefined && page === undefined) {
      list = await this.wholeList(userId, warningDays);
    } else if (status === undefined && page !== undefined) {
      // A page of a list this instance keeps and still holds true is cut from it; a page never
      // builds the whole list (pages are for lists too long to send whole).
      const kept = await this.keptList(userId, warningDays);
      if (kept) list = pageOf(kept, page.limit, after);
    }
    if (!list) {
      const built = await this.keys.listActiveJson(userId, warningDays, { status, page: page && { limit: page.limit, after } });
      list = { ...built, body: Buffer.from(built.body) };
    }
    const cursor = list.next && encodeCursor(list.next);
    const { ids } = list;
    if (!this.lastUsed.hasPendingUses || !ids.some((id) => this.lastUsed.pendingUse(id) !== undefined))
      return { body: list.body, next: cursor };
    const items = JSON.parse(list.body.toString('utf8')) as ApiKeyResponse[];
    for (const item of items) {
      const pending = this.lastUsed.pendingUse(item.id);
      if (pending && (item.last_used_at === null || pending.getTime() > Date.parse(item.last_used_at))) {
        item.last_used_at = pending.toISOString();
      }
    }
    return { body: Buffer.from(JSON.stringify(items)), next: cursor };
  }

  /** The user's kept whole list, if there is one and it still holds: nothing changed, no status moved with the clock. */
  private async keptList(userId: string, warningDays: number): Promise<RenderedList | undefined> {
    const kept = this.renderedLists.get(userId);
    if (!kept || kept.userId !== userId || kept.warningDays !== warningDays || Date.now() >= kept.validUntil) return undefined;
    const version = await this.keys.listVersion(userId);
    return version !== null && version === kept.version ? kept : undefined;
  }

  private async wholeList(userId: string, warningDays: number): Promise<RenderedList> {
    const kept = await this.keptList(userId, warningDays);
    if (kept) return kept;
    const started = Date.now();
    const built = await this.keys.listActiveJson(userId, warningDays);
    const sizes = built.sizes ?? [];
    // Where each key's JSON starts in the body: after "[" and the keys and commas before it.
    const offsets: number[] = [];
    for (let i = 0, at = 1; i < sizes.length; at += sizes[i] + 1, i++) offsets.push(at);
    const list: RenderedList = {
      userId,
      body: ownBuffer(built.body),
      ids: built.ids,
      offsets,
      sizes,
      positions: built.positions ?? [],
      version: built.version,
      // On this instance's clock, from before the query: a skew between the clocks does not matter.
      validUntil: started + built.validFor,
      warningDays,
    };
    // The version was read in the same statement as the rows: a change committed meanwhile moves
    // it past the one kept. The lengths are the database's: kept only if they add up in UTF-8.
    const expectedLength = sizes.length === 0 ? 2 : offsets[sizes.length - 1] + sizes[sizes.length - 1] + 1;
    if (built.version !== null && list.body.length === expectedLength) {
      this.renderedLists.set(userId, list);
    } else this.renderedLists.delete(userId);
    return list;
  }

  async create(
    principal: Principal,
    request: CreateApiKeyRequest,
    actor: AuditActor = { userId: principal.userId },
  ): Promise<ApiKeyCreatedResponse> {
    // The organisation's policy as stored now (an admin's change applies to the next create).
    const policy = await this.policy.read(this.dataSource);
    const scopes = this.grantableScopes(principal, request.scopes, policy);
    const { expiresAt, notBefore } = this.validityWindow(request, principal.apiKey, policy);
    const { prefix, hashSecret } = this.config.apiKeys;
    const maxPerUser = policy.maxKeysPerUser;
    const rateLimitPerMinute = this.grantableRateLimit(principal, request.rate_limit_per_minute);
    const key = generateKey(prefix);

    const { row, retired } = await this.dataSource
      .transaction(async (tx) => {
        // Serialise creates per user so the cap holds under concurrent requests.
        await this.keys.lockUser(tx, principal.userId);
        // Only keys that can still authenticate hold a slot and a name.
        const count = await this.keys.countUsable(tx, principal.userId);
        if (count >= maxPerUser) {
          throw ApiProblem.conflict(
            `You already have ${count} active API keys, the maximum. Delete one before creating another.`,
            'key_limit_reached',
          );
        }
        if (await this.keys.usableNameExists(tx, principal.userId, request.name)) throw duplicateName(request.name);
        const retired = await this.keys.retireExpiredNamed(tx, principal.userId, request.name);
        if (retired) {
          await this.invalidation.publish(tx, [retired.keyHash]);
          // Once per key: the hourly job may already have announced this expiry.
          if (await this.keys.claimExpiryNotice(tx, retired.id, 'expired'))
            await this.audit.record(tx, {
              type: 'api_key.expired',
              actor,
              subject: { userId: principal.userId, keyId: retired.id, keyName: retired.name, keyHint: retired.keyHint },
              details: { reason: 'name_reused' },
            });
        }
        const inserted = await this.keys.insert(tx, {
          userId: principal.userId,
          name: request.name,
          keyHash: hashKey(key, hashSecret),
          keyHint: hintOf(key, prefix),
          scopes,
          createdAt: new Date(),
          expiresAt,
          notBefore,
          rateLimitPerMinute,
        });
        if (principal.username) await this.knownUsers.remember(tx, principal.userId, principal.username);
        // In the same transaction: no key exists without its event.
        await this.audit.record(tx, {
          type: 'api_key.created',
          actor,
          subject: { userId: principal.userId, keyId: inserted.id, keyName: inserted.name, keyHint: inserted.keyHint },
          details: {
            scopes,
            expires_at: expiresAt?.toISOString() ?? null,
            ...(rateLimitPerMinute !== null ? { rate_limit_per_minute: rateLimitPerMinute } : {}),
          },
        });
        return { row: inserted, retired: retired?.keyHash };
      })
      .catch((error: unknown) => {
        // The partial unique index is the backstop should two creates ever race past the lock.
        const driverError = (error as { driverError?: { code?: string; constraint?: string } }).driverError;
        if (driverError?.code === '23505' && driverError.constraint === 'api_keys_user_active_name_uq') throw duplicateName(request.name);
        throw error;
      });
    if (retired) this.invalidation.evictLocally([retired]);
    this.metrics.keysCreated.inc();
    return { ...this.toResponse(row), key };
  }

  async revoke(userId: string, id: number, actor: AuditActor = { userId }): Promise<void> {
    // Revoke and tell every instance (NOTIFY is delivered when this transaction commits).
    const revoked = await this.dataSource.transaction(async (tx) => {
      const key = await this.keys.revoke(tx, userId, id);
      if (!key) return undefined;
      await this.invalidation.publish(tx, [key.keyHash]);
      await this.audit.record(tx, {
        type: 'api_key.revoked',
        actor,
        subject: { userId, keyId: id, keyName: key.name, keyHint: key.keyHint },
        details: { reason: 'owner' },
      });
      return key;
    });
    // Another user's key and a missing key look the same: existence must not leak.
    if (!revoked) throw ApiProblem.notFound('API key not found', 'api_key_not_found');
    this.invalidation.evictLocally([revoked.keyHash]);
    this.metrics.keysRevoked.labels('owner').inc();
    this.lastUsed.forget(id);
  }

  /**
   * Replaces a key: a new key with the same name, scopes and lifetime (shown once), and the old
   * one working for `graceSeconds` more (never longer than it would have anyway), then refused
   * as `rotated_key`. One transaction: the new key, the old key's new expiry, the invalidation
   * for every instance and the audit event commit together.
   */
  async rotate(
    principal: Principal,
    id: number,
    graceSeconds: number,
    actor: AuditActor,
    /** Undefined: the old key's limit. */
    rateLimit?: number | null,
  ): Promise<ApiKeyRotatedResponse> {
    const now = Date.now();
    const { prefix, hashSecret } = this.config.apiKeys;
    const key = generateKey(prefix);
    const result = await this.dataSource.transaction(async (tx) => {
      await this.keys.lockUser(tx, principal.userId);
      const { maxLifetimeDays, maxKeysPerUser, expiryRequired, allowedScopes } = await this.policy.read(tx);
      const old = await this.keys.findForRotation(tx, principal.userId, id);
      if (!old) throw ApiProblem.notFound('API key not found', 'api_key_not_found');
      if (old.rotatedAt)
        throw ApiProblem.conflict(
          `This key was already replaced on ${old.rotatedAt.toISOString()}; rotate its successor instead.`,
          'already_rotated',
        );
      // Rotation renews a key that is in use; an expired key is not brought back this way.
      if (old.expiresAt && old.expiresAt.getTime() <= now)
        throw ApiProblem.conflict('This key has expired; create a new key instead of rotating it.', 'expired_key');
      // With a grace period both keys work for a while: that counts against the per-user cap.
      if (graceSeconds > 0 && (await this.keys.countUsable(tx, principal.userId)) >= maxKeysPerUser) {
        throw ApiProblem.conflict(
          `You have ${maxKeysPerUser} active API keys, the maximum: rotate without a grace period, or delete a key first.`,
          'key_limit_reached',
        );
      }
      // "Cannot grant what you do not have": a key may only rotate keys within its own scopes.
      const missing = old.scopes.filter((s) => !principal.scopes.includes(s as Scope));
      if (missing.length > 0)
        throw insufficientScope(missing as Scope[], `Rotating this key needs the scopes it holds: ${missing.join(' ')}.`);
      // The successor holds what the policy still allows of the old key's scopes.
      const scopes = old.scopes.filter((s) => allowedScopes.includes(s as Scope));
      if (scopes.length === 0)
        throw ApiProblem.unprocessable("None of this key's scopes is allowed by the organisation's policy any more; create a new key.", [
          { field: 'scopes', message: "none of the key's scopes is allowed by the policy" },
        ]);
      // The new key lives as long as the old one was meant to, within the caps (and the calling key's own expiry).
      const lifetime = old.expiresAt ? Math.min(old.expiresAt.getTime() - old.createdAt.getTime(), maxLifetimeDays * DAY_MS) : null;
      const creatorExpiry = principal.apiKey?.expiresAt ?? null;
      const candidates = [lifetime === null ? null : now + lifetime, creatorExpiry].filter((t): t is number => t !== null);
      // A policy requiring expiry gives a key that had none the maximum lifetime.
      if (candidates.length === 0 && expiryRequired) candidates.push(now + maxLifetimeDays * DAY_MS);
      const expiresAt = candidates.length > 0 ? new Date(Math.min(...candidates)) : null;
      const oldEndsAt = new Date(Math.min(now + graceSeconds * 1000, old.expiresAt?.getTime() ?? Infinity));
      const rateLimitPerMinute = this.grantableRateLimit(principal, rateLimit === undefined ? (old.rateLimitPerMinute ?? null) : rateLimit);
      await this.keys.markRotated(tx, old.id, oldEndsAt);
      const inserted = await this.keys.insert(tx, {
        userId: principal.userId,
        name: old.name,
        keyHash: hashKey(key, hashSecret),
        keyHint: hintOf(key, prefix),
        scopes,
        createdAt: new Date(now),
        expiresAt,
        notBefore: null,
        rateLimitPerMinute,
      });
      await this.keys.linkReplacement(tx, old.id, inserted.id);
      // The new key has its own history from its first moment, like any created key.
      await this.audit.record(tx, {
        type: 'api_key.created',
        actor,
        subject: { userId: principal.userId, keyId: inserted.id, keyName: inserted.name, keyHint: inserted.keyHint },
        details: { scopes, expires_at: expiresAt?.toISOString() ?? null, rotated_from: old.id },
      });
      // Every instance reloads the old key (its new expiry and rotated mark) when this commits.
      await this.invalidation.publish(tx, [old.keyHash]);
      await this.audit.record(tx, {
        type: 'api_key.rotated',
        actor,
        subject: { userId: principal.userId, keyId: old.id, keyName: old.name, keyHint: old.keyHint },
        details: { new_key_id: inserted.id, grace_period_seconds: graceSeconds, old_key_expires_at: oldEndsAt.toISOString() },
      });
      return { inserted, old, oldEndsAt };
    });
    this.invalidation.evictLocally([result.old.keyHash]);
    this.metrics.keysCreated.inc();
    this.metrics.keysRevoked.labels('rotation').inc();
    return { ...this.toResponse(result.inserted), key, replaced: { id: result.old.id, expires_at: result.oldEndsAt.toISOString() } };
  }

  /**
   * `current` as JSON bytes, made once per principal: the guard hands out one principal per
   * verified key (and the token cache one per token) until the key or token is read again, and
   * a principal is never changed, so its body cannot go stale. Keyed by the object itself, so
   * one caller's body can only ever be found from that caller's principal.
   */
  currentJson(principal: Principal): Buffer {
    let body = this.currentBodies.get(principal);
    if (!body) {
      // Its own memory: a slice of Node's shared pool would keep 8 kB (and whatever else was
      // decoded there, a token's bytes say) alive for as long as the principal lives.
      body = ownBuffer(JSON.stringify(this.current(principal)));
      this.currentBodies.set(principal, body);
    }
    return body;
  }

  current(principal: Principal): CurrentCredentialResponse {
    const scopes = principal.scopes as Scope[];
    const out: CurrentCredentialResponse = principal.apiKey
      ? { id: principal.apiKey.id, name: principal.apiKey.name, user_id: principal.userId, auth_type: principal.authType, scopes }
      : { user_id: principal.userId, auth_type: principal.authType, scopes };
    if (principal.username) out.username = principal.username;
    return out;
  }

  /**
   * A key may not mint a key that escapes its own rate limit: a key created or rotated by a
   * limited key gets at most that limit (and that limit when none is asked for).
   */
  private grantableRateLimit(principal: Principal, requested: number | null | undefined): number | null {
    const own = principal.apiKey?.rateLimitPerMinute ?? null;
    if (own === null) return requested ?? null;
    if (requested === undefined || requested === null) return own;
    if (requested > own) {
      throw ApiProblem.unprocessable(`rate_limit_per_minute cannot exceed the calling key's own limit (${own})`, [
        { field: 'rate_limit_per_minute', message: `must be at most ${own}, the calling key's limit` },
      ]);
    }
    return requested;
  }

  /**
   * "Cannot grant what you do not have": a key may only hand on scopes its creator holds, within
   * the policy's allowed scopes. Without a request, the policy's default scopes the creator holds
   * (never an opt-in scope such as admin:read: those are granted only when asked for).
   */
  private grantableScopes(principal: Principal, requested: Scope[] | undefined, policy: KeyPolicy): Scope[] {
    if (requested === undefined) {
      const scopes = policy.defaultScopes.filter((s) => principal.scopes.includes(s));
      if (scopes.length === 0)
        throw ApiProblem.unprocessable('scopes must be named: the calling credential holds none of the default scopes', [
          {
            field: 'scopes',
            message: `must be named: the calling credential holds none of the default scopes (${policy.defaultScopes.join(', ')})`,
          },
        ]);
      return scopes;
    }
    const missing = requested.filter((s) => !principal.scopes.includes(s));
    if (missing.length > 0)
      throw insufficientScope(missing, `Cannot grant scopes the calling credential does not hold: ${missing.join(', ')}`);
    const refused = requested.filter((s) => !policy.allowedScopes.includes(s));
    if (refused.length > 0)
      throw ApiProblem.unprocessable(`scopes ${refused.join(', ')} are not allowed for new keys by the organisation's policy`, [
        {
          field: 'scopes',
          message: `${refused.join(', ')} not allowed by the organisation's policy (allowed: ${policy.allowedScopes.join(', ')})`,
        },
      ]);
    return requested;
  }

  /**
   * The new key's window: within the maximum lifetime and, like scopes, within the creating
   * key's own window ("a key cannot mint keys that outlive it"): a key created by a key
   * inherits its expiry and not-before unless the request narrows them.
   */
  private validityWindow(
    request: CreateApiKeyRequest,
    creator: Principal['apiKey'],
    policy: KeyPolicy,
  ): { expiresAt: Date | null; notBefore: Date | null } {
    const now = Date.now();
    const maxDays = policy.maxLifetimeDays;
    const invalid = (field: string, message: string) =>
      ApiProblem.unprocessable(`${field} ${message}`, [{ field, message }], 'invalid_validity_window');
    const creatorExpiry = creator?.expiresAt ?? null;
    const creatorStart = creator?.notBefore ?? null;
    if (creatorExpiry !== null && request.expires_at === null) {
      throw invalid(
        'expires_at',
        `cannot be null: the calling key expires at ${new Date(creatorExpiry).toISOString()}, and a key cannot create a key that outlives it`,
      );
    }
    if (policy.expiryRequired && request.expires_at === null) {
      throw invalid('expires_at', `cannot be null: the organisation's policy requires keys to expire (within ${maxDays} days)`);
    }
    // Omitted under a policy requiring expiry: the maximum lifetime (or the calling key's own expiry, if sooner).
    const policyDefault = policy.expiryRequired ? now + maxDays * DAY_MS : null;
    const inherited = [creatorExpiry, policyDefault].filter((t): t is number => t !== null);
    const expiresAt = request.expires_at
      ? parseInstant(request.expires_at)
      : inherited.length > 0
        ? new Date(Math.min(...inherited))
        : null;
    const notBefore = request.not_before ? parseInstant(request.not_before) : creatorStart !== null ? new Date(creatorStart) : null;
    if (creatorExpiry !== null && expiresAt && expiresAt.getTime() > creatorExpiry) {
      throw invalid('expires_at', `must not be later than the calling key's own expiry, ${new Date(creatorExpiry).toISOString()}`);
    }
    if (creatorStart !== null && notBefore && notBefore.getTime() < creatorStart) {
      throw invalid('not_before', `must not be earlier than the calling key's own not_before, ${new Date(creatorStart).toISOString()}`);
    }
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
  private toResponse(row: ApiKeyRecord): ApiKeyResponse {
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
      status: this.statusOf(row),
      rate_limit_per_minute: row.rateLimitPerMinute ?? null,
    };
  }

  private statusOf(row: ApiKeyRecord, now = Date.now()): ApiKeyStatus {
    const expires = row.expiresAt?.getTime();
    if (row.rotatedAt) return 'rotated';
    if (expires !== undefined && expires <= now) return 'expired';
    if (expires !== undefined && expires - now <= this.policy.current().expiryWarningDays * DAY_MS) return 'expiring';
    return 'active';
  }
}

/** Opaque to clients: base64url of "<creation time to the microsecond> <id>". */
function encodeCursor(position: { createdAt: string; id: number }): string {
  return Buffer.from(`${position.createdAt} ${position.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: number } {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z) (\d{1,10})$/.exec(Buffer.from(cursor, 'base64url').toString('latin1'));
  // The date must survive a round trip (Date.parse accepts 2026-02-31, PostgreSQL does not) and
  // lie after 1970 (PostgreSQL has no year 0): no key was created outside that.
  const time = match ? Date.parse(match[1]) : NaN;
  const valid = match && time > 0 && new Date(time).toISOString().slice(0, 19) === match[1].slice(0, 19);
  if (!match || !valid || Number(match[2]) > 2147483647) {
    throw ApiProblem.badRequest('after must be a cursor from a Link header', 'invalid_cursor', [
      { field: 'after', message: 'is not a cursor this API issued' },
    ]);
  }
  return { createdAt: match[1], id: Number(match[2]) };
}

function duplicateName(name: string): ApiProblem {
  return ApiProblem.conflict(`You already have an active API key named "${name}". Choose another name.`, 'duplicate_name', [
    { field: 'name', message: 'is already used by another of your active keys' },
  ]);
}
