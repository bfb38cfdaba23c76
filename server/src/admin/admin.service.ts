import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ApiProblem } from '../common/problem';
import { KeyInvalidationService } from '../credentials/key-invalidation.service';
import { type KeyPolicy, KeyPolicyService } from '../credentials/key-policy.service';
import { LastUsedTracker } from '../credentials/last-used.tracker';
import { OPT_IN_SCOPES, type Scope } from '../credentials/scopes';
import { type AdminKeyRow, AdminQueriesRepository } from '../database/repositories/admin-queries.repository';
import { ApiKeysRepository } from '../database/repositories/api-keys.repository';
import {
  type AuditActor,
  type AuditEventRow,
  AuditEventsRepository,
  type AuditFilter,
} from '../database/repositories/audit-events.repository';
import { KeyPolicyRepository, KnownUsersRepository } from '../database/repositories/key-policy.repository';
import { Metrics } from '../metrics/metrics';
import type { ApiKeyStatus } from '../api-keys/dto/api-key.dto';
import {
  AdminApiKey,
  AdminApiKeyPage,
  AdminAuditQuery,
  AdminKeyPolicyResponse,
  AdminKeysQuery,
  AdminOverview,
  AdminRevokeResponse,
  BulkRevokeResponse,
  KeyPolicyBody,
  KeyPolicyResponse,
} from './dto/admin.dto';

const DAY_MS = 86_400_000;
const DEFAULT_PAGE = 50;
const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

/** The policy in the API's words (snake_case), as the routes answer and the audit log records it. */
export function policyBody(policy: KeyPolicy): KeyPolicyBody {
  return {
    max_lifetime_days: policy.maxLifetimeDays,
    expiry_required: policy.expiryRequired,
    max_keys_per_user: policy.maxKeysPerUser,
    allowed_scopes: policy.allowedScopes,
    default_scopes: policy.defaultScopes,
    expiry_warning_days: policy.expiryWarningDays,
  };
}

export function policyResponse(policy: KeyPolicy): KeyPolicyResponse {
  return { ...policyBody(policy), updated_at: iso(policy.updatedAt) };
}

/** The cursor of the admin key list: base64url of JSON {s: sort, v: position or null, i: id}. */
function encodeCursor(sort: string, row: AdminKeyRow): string {
  return Buffer.from(JSON.stringify({ s: sort, v: row.position, i: row.id })).toString('base64url');
}

const POSITION = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** A real instant after 1970 that survives a round trip (Date.parse accepts 2026-02-31; PostgreSQL does not). */
function validInstant(position: string): boolean {
  const time = Date.parse(position);
  return time > 0 && new Date(time).toISOString().slice(0, 19) === position.slice(0, 19);
}

function decodeCursor(sort: string, cursor: string): { value: string | null; id: number } {
  let parsed: unknown;
  try {
    parsed = /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    parsed = undefined;
  }
  const c = parsed as { s?: unknown; v?: unknown; i?: unknown } | undefined;
  const valid =
    typeof c === 'object' &&
    c !== null &&
    c.s === sort &&
    (c.v === null || (typeof c.v === 'string' && POSITION.test(c.v) && validInstant(c.v))) &&
    Number.isInteger(c.i) &&
    (c.i as number) >= 1 &&
    (c.i as number) <= 2147483647;
  if (!valid) {
    throw ApiProblem.badRequest('after must be a next_cursor from a previous page of this list (and the same sort)', 'invalid_cursor', [
      { field: 'after', message: 'is not a cursor this API issued for this sort' },
    ]);
  }
  return { value: c.v as string | null, id: c.i as number };
}

/**
 * Administration: every user's keys, revocation by an admin, the whole audit log, the key policy
 * and an overview. Reads across users happen only here (AdminQueriesRepository).
 */
@Injectable()
export class AdminService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly queries: AdminQueriesRepository,
    private readonly keys: ApiKeysRepository,
    private readonly audit: AuditEventsRepository,
    private readonly knownUsers: KnownUsersRepository,
    private readonly policies: KeyPolicyRepository,
    private readonly policy: KeyPolicyService,
    private readonly invalidation: KeyInvalidationService,
    private readonly lastUsed: LastUsedTracker,
    private readonly metrics: Metrics,
  ) {}

  async listKeys(query: AdminKeysQuery): Promise<AdminApiKeyPage> {
    const sort = query.sort ?? 'created_at';
    const limit = query.limit ?? DEFAULT_PAGE;
    const after = query.after === undefined ? undefined : decodeCursor(sort, query.after);
    const warningDays = this.policy.current().expiryWarningDays;
    const filter = {
      userIds: query.user === undefined ? undefined : await this.knownUsers.resolve(query.user),
      q: query.q || undefined,
      status: query.status,
      warningDays,
    };
    const [rows, total] = await Promise.all([
      this.queries.listKeys(filter, { sort, after, limit: limit + 1 }),
      this.queries.countKeys(filter),
    ]);
    const items = rows.slice(0, limit).map((row) => this.keyResponse(row, warningDays));
    return { items, next_cursor: rows.length > limit ? encodeCursor(sort, rows[limit - 1]) : null, total };
  }

  /** Revokes anyone's key, as the owner's delete does (every instance at once), audited with the admin's reason. */
  async revoke(id: number, reason: string, actor: AuditActor): Promise<AdminRevokeResponse> {
    const { revoked } = await this.revokeMany([id], reason, actor);
    if (revoked.length === 0) throw ApiProblem.notFound('No active API key with this id', 'api_key_not_found');
    return { id, user_id: revoked[0].userId, message: 'API key revoked' };
  }

  async revokeBulk(ids: number[], reason: string, actor: AuditActor): Promise<BulkRevokeResponse> {
    const { revoked } = await this.revokeMany(ids, reason, actor);
    const done = new Set(revoked.map((k) => k.id));
    return { revoked: ids.filter((id) => done.has(id)), not_found: ids.filter((id) => !done.has(id)) };
  }

  private async revokeMany(ids: number[], reason: string, actor: AuditActor) {
    // One transaction: the revocations, their events and the NOTIFY (delivered on commit) together.
    const revoked = await this.dataSource.transaction(async (tx) => {
      const done = [];
      // One statement for all: see ApiKeysRepository.revokeManyAnyOwner (updating them one by one could deadlock).
      for (const key of await this.keys.revokeManyAnyOwner(tx, ids)) {
        await this.invalidation.publish(tx, [key.keyHash]);
        await this.audit.record(tx, {
          type: 'api_key.revoked',
          actor,
          subject: { userId: key.userId, keyId: key.id, keyName: key.name, keyHint: key.keyHint },
          details: { reason, by_admin: true },
        });
        done.push(key);
      }
      return done;
    });
    this.invalidation.evictLocally(revoked.map((k) => k.keyHash));
    for (const key of revoked) {
      this.metrics.keysRevoked.labels('admin').inc();
      this.lastUsed.forget(key.id);
    }
    return { revoked };
  }

  async auditFilter(query: AdminAuditQuery): Promise<AuditFilter> {
    const from = query.from === undefined ? undefined : new Date(query.from);
    const to = query.to === undefined ? undefined : new Date(query.to);
    for (const [field, date] of [
      ['from', from],
      ['to', to],
    ] as const) {
      if (date && (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999))
        throw ApiProblem.unprocessable(`${field} is not a valid date-time`, [{ field, message: 'is not a valid date-time' }]);
    }
    if (from && to && from > to)
      throw ApiProblem.unprocessable('from must not be after to', [{ field: 'from', message: 'must not be after to' }]);
    return {
      userIds: query.user === undefined ? undefined : await this.knownUsers.resolve(query.user),
      keyId: query.key_id,
      type: query.type,
      from,
      to,
    };
  }

  listAudit(filter: AuditFilter, beforeId: string | undefined, limit: number): Promise<AuditEventRow[]> {
    return this.audit.listAll({ ...filter, beforeId, limit });
  }

  adminPolicy(policy: KeyPolicy = this.policy.current()): AdminKeyPolicyResponse {
    return { ...policyResponse(policy), updated_by: policy.updatedBy, source: policy.updatedAt ? 'database' : 'environment' };
  }

  async readPolicy(): Promise<AdminKeyPolicyResponse> {
    return this.adminPolicy(await this.policy.read(this.dataSource));
  }

  /** Stores the policy, audited with before and after; this instance applies it on commit, the others on NOTIFY. */
  async updatePolicy(body: KeyPolicyBody, actor: AuditActor): Promise<AdminKeyPolicyResponse> {
    const optIn = body.default_scopes.filter((s) => OPT_IN_SCOPES.includes(s));
    const notAllowed = body.default_scopes.filter((s) => !body.allowed_scopes.includes(s));
    const errors = [
      ...(optIn.length > 0
        ? [{ field: 'default_scopes', message: `${optIn.join(', ')} are opt-in: granted only when asked for, never by default` }]
        : []),
      ...(notAllowed.length > 0 ? [{ field: 'default_scopes', message: `${notAllowed.join(', ')} not in allowed_scopes` }] : []),
      ...(body.expiry_warning_days > body.max_lifetime_days
        ? [{ field: 'expiry_warning_days', message: 'must not exceed max_lifetime_days' }]
        : []),
    ];
    if (errors.length > 0)
      throw ApiProblem.unprocessable(`The policy is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`, errors);
    const order = (scopes: Scope[]) => [...scopes].sort();
    const after = await this.dataSource.transaction(async (tx) => {
      await this.policies.lock(tx);
      const before = await this.policy.read(tx);
      const updatedAt = await this.policies.write(tx, {
        maxLifetimeDays: body.max_lifetime_days,
        expiryRequired: body.expiry_required,
        maxKeysPerUser: body.max_keys_per_user,
        allowedScopes: order(body.allowed_scopes),
        defaultScopes: order(body.default_scopes),
        expiryWarningDays: body.expiry_warning_days,
        updatedBy: actor.userId ?? null,
      });
      const stored = await this.policy.read(tx);
      await this.invalidation.publishPolicyChange(tx);
      await this.audit.record(tx, {
        type: 'policy.updated',
        actor,
        subject: {},
        details: { before: policyBody(before), after: policyBody(stored) },
      });
      return { ...stored, updatedAt };
    });
    this.policy.applied(after);
    return this.adminPolicy(after);
  }

  async overview(): Promise<AdminOverview> {
    const warningDays = this.policy.current().expiryWarningDays;
    // One after the other: on the embedded database every statement shares one connection anyway.
    const keys = await this.queries.statusCounts(warningDays);
    const created = await this.queries.createdPerDay(30);
    const failures = await this.queries.authFailuresPerHour(24);
    const top = await this.queries.topKeys(7, 10);
    return {
      keys,
      created_per_day: created.map((d) => ({ day: new Date(d.day).toISOString(), count: d.count })),
      auth_failures_per_hour: failures.map((h) => ({ hour: new Date(h.hour).toISOString(), count: h.count })),
      top_keys: top,
    };
  }

  private keyResponse(row: AdminKeyRow, warningDays: number): AdminApiKey {
    const pending = this.lastUsed.pendingUse(row.id);
    const lastUsed = pending && (!row.last_used_at || pending > row.last_used_at) ? pending : row.last_used_at;
    return {
      id: row.id,
      user_id: row.user_id,
      username: row.username,
      name: row.name,
      key_hint: row.key_hint,
      scopes: row.scopes as Scope[],
      created_at: new Date(row.created_at).toISOString(),
      last_used_at: iso(lastUsed),
      expires_at: iso(row.expires_at),
      not_before: iso(row.not_before),
      status: statusOf(row, warningDays),
    };
  }
}

/** As the personal list computes it (ApiKeysService.statusOf). */
function statusOf(row: AdminKeyRow, warningDays: number, now = Date.now()): ApiKeyStatus {
  const expires = row.expires_at ? new Date(row.expires_at).getTime() : undefined;
  if (row.rotated_at) return 'rotated';
  if (expires !== undefined && expires <= now) return 'expired';
  if (expires !== undefined && expires - now <= warningDays * DAY_MS) return 'expiring';
  return 'active';
}
