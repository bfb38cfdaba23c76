import { IsStorableText } from '../../common/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateBy,
} from 'class-validator';
import { KEY_STATUSES, type ApiKeyStatus } from '../../api-keys/dto/api-key.dto';
import { AuditEventResponse } from '../../audit/audit.controller';
import { ALL_SCOPES, type Scope, SCOPE_SCHEMA } from '../../credentials/scopes';
import { AUDIT_EVENT_TYPES } from '../../database/repositories/audit-events.repository';

/** A query parameter given once, as text: an integer (repeated or malformed values fail validation). */
const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^\d{1,10}$/.test(value) ? Number(value) : value);
const trimmed = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export const ADMIN_KEY_SORTS = ['created_at', 'last_used_at'] as const;

export class AdminKeysQuery {
  @ApiPropertyOptional({ description: 'The owner: a user id, or a username the identity provider gave (case-insensitive)', maxLength: 255 })
  @IsOptional()
  @Transform(trimmed)
  @IsString({ message: 'user must be given once' })
  @MinLength(1, { message: 'user must not be empty' })
  @MaxLength(255, { message: 'user must be at most 255 characters' })
  @IsStorableText()
  user?: string;

  @ApiPropertyOptional({ description: "Text in the key's name, its hint or the owner's username", maxLength: 200 })
  @IsOptional()
  @Transform(trimmed)
  @IsString({ message: 'q must be given once' })
  @MaxLength(200, { message: 'q must be at most 200 characters' })
  @IsStorableText()
  q?: string;

  @ApiPropertyOptional({ enum: KEY_STATUSES, enumName: 'ApiKeyStatus' })
  @IsOptional()
  @IsIn(KEY_STATUSES, { message: `status must be one of: ${KEY_STATUSES.join(', ')}` })
  status?: ApiKeyStatus;

  @ApiPropertyOptional({
    enum: ADMIN_KEY_SORTS,
    description: 'Newest first; last_used_at: most recently used first, never-used last. Default created_at',
  })
  @IsOptional()
  @IsIn(ADMIN_KEY_SORTS, { message: `sort must be one of: ${ADMIN_KEY_SORTS.join(', ')}` })
  sort?: (typeof ADMIN_KEY_SORTS)[number];

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, description: 'Page size (default 50)' })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be an integer from 1 to 200' })
  @Min(1, { message: 'limit must be an integer from 1 to 200' })
  @Max(200, { message: 'limit must be an integer from 1 to 200' })
  limit?: number;

  @ApiPropertyOptional({ description: "The previous page's `next_cursor` (opaque; only with the same sort)", maxLength: 200 })
  @IsOptional()
  @IsString({ message: 'after must be a next_cursor from a previous page' })
  @MaxLength(200, { message: 'after must be a next_cursor from a previous page' })
  after?: string;
}

export class AdminApiKey {
  @ApiProperty({ type: 'integer', example: 7 }) id: number;
  @ApiProperty({ example: 'a1b2c3d4-…', description: "The owner's user id" }) user_id: string;
  @ApiProperty({
    type: 'string',
    nullable: true,
    example: 'alice',
    description: 'The owner as the identity provider named them, when known',
  })
  username: string | null;
  @ApiProperty({ example: 'CI deploy script' }) name: string;
  @ApiProperty({ example: 'sk-oh-…x9Qz' }) key_hint: string;
  @ApiProperty({ enum: ALL_SCOPES, enumName: SCOPE_SCHEMA, isArray: true }) scopes: Scope[];
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_used_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) expires_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) not_before: string | null;
  @ApiProperty({
    enum: KEY_STATUSES,
    enumName: 'ApiKeyStatus',
    description: "As the personal list computes it (the policy's expiry warning days)",
  })
  status: ApiKeyStatus;
}

export class AdminApiKeyPage {
  @ApiProperty({ type: [AdminApiKey] }) items: AdminApiKey[];
  @ApiProperty({ type: 'string', nullable: true, description: 'Pass as `after` for the next page; null on the last' })
  next_cursor: string | null;
  @ApiProperty({ type: 'integer', description: 'Keys matching the filter, on every page' }) total: number;
}

export class RevokeReason {
  @ApiProperty({ minLength: 1, maxLength: 500, example: 'Owner left the company', description: 'Why; recorded in the audit log' })
  @Transform(trimmed)
  @IsDefined({ message: 'reason is required' })
  @IsString({ message: 'reason must be a string' })
  @MinLength(1, { message: 'reason must not be empty' })
  @MaxLength(500, { message: 'reason must be at most 500 characters' })
  @IsStorableText()
  reason: string;
}

export class BulkRevokeRequest extends RevokeReason {
  @ApiProperty({ type: 'integer', isArray: true, minItems: 1, maxItems: 100, uniqueItems: true, example: [7, 8] })
  @IsDefined({ message: 'ids is required' })
  @IsArray({ message: 'ids must be an array' })
  @ArrayMinSize(1, { message: 'ids must name at least one key' })
  @ArrayMaxSize(100, { message: 'ids must name at most 100 keys' })
  @ArrayUnique({ message: 'ids must not repeat' })
  @IsInt({ each: true, message: 'each id must be a positive integer' })
  @Min(1, { each: true, message: 'each id must be a positive integer' })
  @Max(2147483647, { each: true, message: 'each id must be a positive integer' })
  ids: number[];
}

export class AdminRevokeResponse {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty({ example: "The owner's user id" }) user_id: string;
  @ApiProperty({ example: 'API key revoked' }) message: string;
}

export class BulkRevokeResponse {
  @ApiProperty({ type: 'integer', isArray: true, description: 'Revoked now' }) revoked: number[];
  @ApiProperty({ type: 'integer', isArray: true, description: 'No such active key (unknown, or already revoked)' }) not_found: number[];
}

export class AdminAuditQuery {
  @ApiPropertyOptional({ description: 'A user id or known username: events about them or by them', maxLength: 255 })
  @IsOptional()
  @Transform(trimmed)
  @IsString({ message: 'user must be given once' })
  @MinLength(1, { message: 'user must not be empty' })
  @MaxLength(255, { message: 'user must be at most 255 characters' })
  @IsStorableText()
  user?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 2147483647 })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'key_id must be a key id (a positive integer)' })
  @Min(1, { message: 'key_id must be a key id (a positive integer)' })
  @Max(2147483647, { message: 'key_id must be a key id (a positive integer)' })
  key_id?: number;

  @ApiPropertyOptional({ enum: AUDIT_EVENT_TYPES, enumName: 'AuditEventType' })
  @IsOptional()
  @IsIn(AUDIT_EVENT_TYPES, { message: `type must be one of: ${AUDIT_EVENT_TYPES.join(', ')}` })
  type?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'From this time (inclusive)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be an ISO 8601 date-time' })
  from?: string;

  @ApiPropertyOptional({ type: String, format: 'date-time', description: 'Before this time (exclusive)' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be an ISO 8601 date-time' })
  to?: string;
}

export class AdminAuditPageQuery extends AdminAuditQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 200, description: 'Page size (default 50)' })
  @IsOptional()
  @Transform(toInt)
  @IsInt({ message: 'limit must be an integer from 1 to 200' })
  @Min(1, { message: 'limit must be an integer from 1 to 200' })
  @Max(200, { message: 'limit must be an integer from 1 to 200' })
  limit?: number;

  @ApiPropertyOptional({ description: "The previous page's `next_cursor`", maxLength: 19 })
  @IsOptional()
  @Matches(/^[1-9]\d{0,18}$/, { message: 'after must be a next_cursor from a previous page' })
  @ValidateBy({
    name: 'isBigintCursor',
    validator: {
      validate: (v: unknown) => typeof v !== 'string' || BigInt(v) <= 9223372036854775807n,
      defaultMessage: () => 'after must be a next_cursor from a previous page',
    },
  })
  after?: string;
}

export class AdminAuditEvent extends AuditEventResponse {
  @ApiProperty({ type: 'string', nullable: true, description: 'Whom the event is about' }) subject_user_id: string | null;
}

export class AdminAuditEventPage {
  @ApiProperty({ type: [AdminAuditEvent] }) items: AdminAuditEvent[];
  @ApiProperty({ type: 'string', nullable: true, description: 'Pass as `after` for the next (older) page; null on the last' })
  next_cursor: string | null;
}

/** The organisation's rules for new and rotated keys (issue 14). */
export class KeyPolicyBody {
  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: 36500,
    example: 365,
    description: 'The furthest expiry a new key may have, in days',
  })
  @IsDefined({ message: 'max_lifetime_days is required' })
  @IsInt({ message: 'max_lifetime_days must be an integer from 1 to 36500' })
  @Min(1, { message: 'max_lifetime_days must be an integer from 1 to 36500' })
  @Max(36500, { message: 'max_lifetime_days must be an integer from 1 to 36500' })
  max_lifetime_days: number;

  @ApiProperty({ description: 'Every new key must expire (a create without expires_at gets the maximum lifetime; null is refused)' })
  @IsDefined({ message: 'expiry_required is required' })
  @IsBoolean({ message: 'expiry_required must be true or false' })
  expiry_required: boolean;

  @ApiProperty({ type: 'integer', minimum: 1, maximum: 100000, example: 100, description: 'Active keys per user' })
  @IsDefined({ message: 'max_keys_per_user is required' })
  @IsInt({ message: 'max_keys_per_user must be an integer from 1 to 100000' })
  @Min(1, { message: 'max_keys_per_user must be an integer from 1 to 100000' })
  @Max(100000, { message: 'max_keys_per_user must be an integer from 1 to 100000' })
  max_keys_per_user: number;

  @ApiProperty({ enum: ALL_SCOPES, enumName: SCOPE_SCHEMA, isArray: true, uniqueItems: true, description: 'Scopes new keys may hold' })
  @IsDefined({ message: 'allowed_scopes is required' })
  @IsArray({ message: 'allowed_scopes must be an array' })
  @ArrayMinSize(1, { message: 'allowed_scopes must name at least one scope' })
  @ArrayUnique({ message: 'allowed_scopes must not repeat' })
  @IsIn(ALL_SCOPES, { each: true, message: `each scope must be one of: ${ALL_SCOPES.join(', ')}` })
  allowed_scopes: Scope[];

  @ApiProperty({
    enum: ALL_SCOPES,
    enumName: SCOPE_SCHEMA,
    isArray: true,
    uniqueItems: true,
    description:
      'What a new key gets when its request names no scopes: allowed scopes only, never an opt-in scope (admin:read, admin:write)',
  })
  @IsDefined({ message: 'default_scopes is required' })
  @IsArray({ message: 'default_scopes must be an array' })
  @ArrayMinSize(1, { message: 'default_scopes must name at least one scope' })
  @ArrayUnique({ message: 'default_scopes must not repeat' })
  @IsIn(ALL_SCOPES, { each: true, message: `each scope must be one of: ${ALL_SCOPES.join(', ')}` })
  default_scopes: Scope[];

  @ApiProperty({
    type: 'integer',
    minimum: 1,
    maximum: 90,
    example: 7,
    description: 'Keys expiring within this many days show as expiring',
  })
  @IsDefined({ message: 'expiry_warning_days is required' })
  @IsInt({ message: 'expiry_warning_days must be an integer from 1 to 90' })
  @Min(1, { message: 'expiry_warning_days must be an integer from 1 to 90' })
  @Max(90, { message: 'expiry_warning_days must be an integer from 1 to 90' })
  expiry_warning_days: number;
}

/** The policy in effect, as every signed-in user may read it (the create dialog's limits). */
export class KeyPolicyResponse extends KeyPolicyBody {
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Null while the environment defaults apply' })
  updated_at: string | null;
}

export class AdminKeyPolicyResponse extends KeyPolicyResponse {
  @ApiProperty({ type: 'string', nullable: true, description: 'The admin who stored it (user id)' }) updated_by: string | null;
  @ApiProperty({ enum: ['environment', 'database'], description: 'Where it comes from: the environment defaults, or stored by an admin' })
  source: 'environment' | 'database';
}

export class KeyStatusCounts {
  @ApiProperty({ type: 'integer' }) active: number;
  @ApiProperty({ type: 'integer' }) expiring: number;
  @ApiProperty({ type: 'integer' }) expired: number;
  @ApiProperty({ type: 'integer' }) rotated: number;
}

export class DayCount {
  @ApiProperty({ type: String, format: 'date-time', description: 'Start of the UTC day' }) day: string;
  @ApiProperty({ type: 'integer' }) count: number;
}

export class HourCount {
  @ApiProperty({ type: String, format: 'date-time', description: 'Start of the hour' }) hour: string;
  @ApiProperty({ type: 'integer' }) count: number;
}

export class TopKey {
  @ApiProperty({ type: 'integer' }) key_id: number;
  @ApiProperty({ type: 'string', nullable: true }) user_id: string | null;
  @ApiProperty({ type: 'string', nullable: true }) username: string | null;
  @ApiProperty({ type: 'string', nullable: true }) name: string | null;
  @ApiProperty({ type: 'string', nullable: true }) key_hint: string | null;
  @ApiProperty({ type: 'integer' }) requests: number;
  @ApiProperty({ type: 'integer' }) failures: number;
}

export class AdminOverview {
  @ApiProperty({ type: KeyStatusCounts, description: 'Keys not revoked, by status' }) keys: KeyStatusCounts;
  @ApiProperty({ type: [DayCount], description: 'Keys created per UTC day, the last 30 days (oldest first, zeros included)' })
  created_per_day: DayCount[];
  @ApiProperty({ type: [HourCount], description: 'Refused authentications per hour, the last 24 hours (from auth.failures events)' })
  auth_failures_per_hour: HourCount[];
  @ApiProperty({ type: [TopKey], description: 'The 10 keys with the most requests in the last 7 days' }) top_keys: TopKey[];
}
