import { CredentialsModule } from '../credentials/credentials.module';
import { KeyPolicyService } from '../credentials/key-policy.service';
import { Controller, Get, Injectable, Logger, Module, OnApplicationBootstrap, OnApplicationShutdown, Query } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiQuery, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, RequireScopes } from '../auth/decorators/auth.decorators';
import { ApiProblem } from '../common/problem';
import { ApiProblemResponse } from '../common/problem.dto';
import type { Principal } from '../credentials/principal';
import { ALL_SCOPES, SCOPE_SCHEMA } from '../credentials/scopes';
import { DatabaseModule } from '../database/database.module';
import { AUDIT_EVENT_TYPES, AuditEventsRepository, type AuditEventRow } from '../database/repositories/audit-events.repository';

const DEFAULT_LIMIT = 50;

/** The key policy as `policy.updated` records it (before and after). */
export class PolicySnapshot {
  @ApiProperty({ type: 'integer' }) max_lifetime_days: number;
  @ApiProperty() expiry_required: boolean;
  @ApiProperty({ type: 'integer' }) max_keys_per_user: number;
  @ApiProperty({ enum: ALL_SCOPES, enumName: SCOPE_SCHEMA, isArray: true }) allowed_scopes: string[];
  @ApiProperty({ enum: ALL_SCOPES, enumName: SCOPE_SCHEMA, isArray: true }) default_scopes: string[];
  @ApiProperty({ type: 'integer' }) expiry_warning_days: number;
}

/** What an event's `details` may hold, by type; small and never secret. */
export class AuditEventDetails {
  @ApiPropertyOptional({ enum: ALL_SCOPES, enumName: SCOPE_SCHEMA, isArray: true, description: 'api_key.created' })
  scopes?: string[];
  @ApiPropertyOptional({ type: 'string', format: 'date-time', nullable: true, description: 'api_key.created' }) expires_at?: string | null;
  @ApiPropertyOptional({
    type: 'string',
    example: 'owner',
    description:
      "Why: api_key.revoked (owner; an admin's own words when by_admin), api_key.expired (name_reused), llm_key.refreshed (rejected_by_gateway; leak: the key replaced had been reported leaked), api_key.leaked and llm_key.leaked (leak: reported by secret scanning)",
  })
  reason?: string;
  @ApiPropertyOptional({ type: 'boolean', description: 'api_key.revoked: an administrator revoked the key (the actor), not its owner' })
  by_admin?: boolean;
  @ApiPropertyOptional({ type: PolicySnapshot, description: 'policy.updated: the policy before the change' }) before?: PolicySnapshot;
  @ApiPropertyOptional({ type: PolicySnapshot, description: 'policy.updated: the policy after the change' }) after?: PolicySnapshot;
  @ApiPropertyOptional({
    type: 'string',
    example: 'embedded',
    description:
      'llm_key.provisioned, llm_key.refreshed: where the key was issued (embedded, litellm); api_key.leaked, llm_key.leaked: where it was found, as reported',
  })
  source?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'api_key.rotated: the new key' }) new_key_id?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'api_key.rotated: how long the old key keeps working' })
  grace_period_seconds?: number;
  @ApiPropertyOptional({ type: 'string', format: 'date-time', description: 'api_key.rotated: when the old key stops working' })
  old_key_expires_at?: string;
  @ApiPropertyOptional({ type: 'string', example: '198.51.100.0', description: 'api_key.used_from_new_address: the address or IPv6 /64' })
  network?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'api_key.created by a rotation: the key it replaced' }) rotated_from?: number;
  @ApiPropertyOptional({ type: 'string', description: 'api_key.leaked, llm_key.leaked: where the key was found, as reported' })
  url?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'auth.failures: refusals from the address in the minute' }) count?: number;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'auth.failures: refusals by problem code',
    example: { unknown_key: 3 },
  })
  codes?: Record<string, number>;
  @ApiPropertyOptional({ type: 'string', format: 'date-time', description: 'auth.failures: start of the minute' }) window_start?: string;
  @ApiPropertyOptional({ type: 'boolean', description: 'auth.failures: addresses beyond the per-minute cap, summed' }) aggregated?: boolean;
  @ApiPropertyOptional({ type: 'integer', description: "api_key.created: the key's per-key limit, when it has one" })
  rate_limit_per_minute?: number;
  @ApiPropertyOptional({
    type: 'boolean',
    description: 'api_key.leaked, llm_key.leaked: the report was signed by a configured scanner key',
  })
  signed?: boolean;
  @ApiPropertyOptional({ enum: ['warning', 'final'], description: 'api_key.expiring: entering the warning window, or its last day' })
  threshold?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'api_key.expiring: hours until the key stops working' }) hours_left?: number;
  @ApiPropertyOptional({ type: 'integer', description: 'api_key.rotated_key_used: the key that replaced it' }) replaced_by?: number;
  @ApiPropertyOptional({ type: 'string', format: 'date-time', description: 'api_key.rotated_key_used: when it was replaced' })
  rotated_at?: string;
  @ApiPropertyOptional({ type: 'string', format: 'date-time', description: 'api_key.rotated_key_used: when its grace period ended' })
  stopped_working_at?: string;
  @ApiPropertyOptional({ type: 'integer', description: 'webhook.*: the endpoint' }) webhook_id?: number;
  @ApiPropertyOptional({ type: 'string', isArray: true, description: 'webhook.created: the events it receives' }) events?: string[];
  @ApiPropertyOptional({ type: 'string', description: 'webhook.disabled: the last delivery error' }) last_error?: string;
}

export class AuditEventResponse {
  @ApiProperty({ type: 'integer', format: 'int64', example: 1042, description: 'Increasing' }) id: number;
  @ApiProperty({ type: 'string', format: 'date-time' }) occurred_at: string;
  @ApiProperty({ enum: AUDIT_EVENT_TYPES, enumName: 'AuditEventType', description: 'What happened' }) type: string;
  @ApiProperty({ type: 'string', nullable: true, description: 'Who acted' }) actor_user_id: string | null;
  @ApiProperty({ type: 'string', nullable: true, example: 'cookie', description: 'How they authenticated' })
  actor_auth_type: string | null;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The API key they acted with, if any' }) actor_key_id: number | null;
  @ApiProperty({ type: 'integer', nullable: true }) key_id: number | null;
  @ApiProperty({ type: 'string', nullable: true, description: "The key's name at the time" }) key_name: string | null;
  @ApiProperty({ type: 'string', nullable: true, example: 'sk-oh-…a1b2' }) key_hint: string | null;
  @ApiProperty({ type: 'string', nullable: true, example: '203.0.113.7' }) client_address: string | null;
  @ApiProperty({ type: 'string', nullable: true }) user_agent: string | null;
  @ApiProperty({ type: 'string', nullable: true }) request_id: string | null;
  @ApiProperty({ type: AuditEventDetails }) details: AuditEventDetails;
}

export class AuditEventPage {
  @ApiProperty({ type: [AuditEventResponse] }) items: AuditEventResponse[];
  @ApiPropertyOptional({ type: 'string', nullable: true, description: 'Pass as `after` for the next (older) page; null on the last' })
  next_cursor: string | null;
}

function invalid(field: string, message: string): ApiProblem {
  return ApiProblem.unprocessable(`${field} ${message}`, [{ field, message }]);
}

export function auditEventResponse(row: AuditEventRow): AuditEventResponse {
  return {
    id: Number(row.id),
    occurred_at: new Date(row.occurred_at).toISOString(),
    type: row.type,
    actor_user_id: row.actor_user_id,
    actor_auth_type: row.actor_auth_type,
    actor_key_id: row.actor_key_id,
    key_id: row.subject_key_id,
    key_name: row.subject_key_name,
    key_hint: row.subject_key_hint,
    client_address: row.client_address,
    user_agent: row.user_agent,
    request_id: row.request_id,
    details: row.details,
  };
}

@ApiTags('Audit log')
@Controller('api/audit-events')
export class AuditController {
  constructor(private readonly events: AuditEventsRepository) {}

  @Get()
  @RequireScopes('keys:read')
  @ApiOperation({
    operationId: 'listAuditEvents',
    summary: 'Your audit log, newest first: key created, deleted, LLM key issued, sign-ins and sign-outs',
    description: 'Cursor-paginated: pass `next_cursor` as `after` for the next page.',
  })
  @ApiOkResponse({ type: AuditEventPage })
  @ApiQuery({ name: 'key_id', required: false, schema: { type: 'integer', minimum: 1 } })
  @ApiQuery({ name: 'type', required: false, schema: { type: 'string', enum: [...AUDIT_EVENT_TYPES] } })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: DEFAULT_LIMIT } })
  @ApiQuery({ name: 'after', required: false, schema: { type: 'string' } })
  @ApiProblemResponse(422, 'A filter or the page size is not valid.', ['validation_failed'])
  async list(
    @CurrentPrincipal() principal: Principal,
    @Query('key_id') keyId: unknown,
    @Query('type') type: unknown,
    @Query('limit') limit: unknown,
    @Query('after') after: unknown,
  ): Promise<AuditEventPage> {
    if (keyId !== undefined && (typeof keyId !== 'string' || !/^[1-9]\d{0,9}$/.test(keyId) || Number(keyId) > 2147483647))
      throw invalid('key_id', 'must be a key id (a positive integer)');
    if (type !== undefined && !(AUDIT_EVENT_TYPES as readonly unknown[]).includes(type))
      throw invalid('type', `must be one of ${AUDIT_EVENT_TYPES.join(', ')}`);
    if (limit !== undefined && (typeof limit !== 'string' || !/^\d{1,3}$/.test(limit) || Number(limit) < 1 || Number(limit) > 200))
      throw invalid('limit', 'must be an integer from 1 to 200');
    if (after !== undefined && (typeof after !== 'string' || !/^[1-9]\d{0,18}$/.test(after) || BigInt(after) > 9223372036854775807n))
      throw invalid('after', 'must be a next_cursor from a previous page');
    const size = limit === undefined ? DEFAULT_LIMIT : Number(limit);
    const rows = await this.events.listForUser(principal.userId, {
      keyId: keyId === undefined ? undefined : Number(keyId),
      type: type as string | undefined,
      beforeId: after as string | undefined,
      limit: size + 1,
    });
    const items = rows.slice(0, size).map(auditEventResponse);
    return { items, next_cursor: rows.length > size ? String(items[items.length - 1].id) : null };
  }
}

/** Runs the audit housekeeping every hour (and shortly after start) on whichever instance gets the lock. */
@Injectable()
export class AuditHousekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(AuditHousekeeping.name);
  private timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly events: AuditEventsRepository,
    private readonly config: AppConfig,
    private readonly policy: KeyPolicyService,
  ) {}

  onApplicationBootstrap(): void {
    const first = setTimeout(() => void this.run(), 30_000);
    const hourly = setInterval(() => void this.run(), 3_600_000);
    first.unref();
    hourly.unref();
    this.timers = [first, hourly];
  }

  onApplicationShutdown(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  async run(): Promise<{ expiring: number; expired: number; pruned: number } | null> {
    try {
      // The warning window is the organisation's policy (an admin may change it at run time).
      const result = await this.events.housekeeping(this.config.operations.auditRetentionDays, this.policy.current().expiryWarningDays);
      if (result && (result.expiring || result.expired || result.pruned))
        this.logger.log(
          `audit housekeeping: ${result.expiring} expiry warning(s), ${result.expired} expired key(s) recorded, ${result.pruned} old event(s) pruned`,
        );
      return result;
    } catch (error) {
      this.logger.warn({ err: error }, 'audit housekeeping failed; it runs again within the hour');
      return null;
    }
  }
}

@Module({ imports: [DatabaseModule, CredentialsModule], controllers: [AuditController], providers: [AuditHousekeeping] })
export class AuditModule {}
