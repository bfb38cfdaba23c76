import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  ArrayUnique,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  ValidateIf,
} from 'class-validator';
import { AUTH_TYPES, type AuthType } from '../../credentials/principal';
import { ALL_SCOPES, Scope, SCOPE_SCHEMA } from '../../credentials/scopes';

export const KEY_STATUSES = ['active', 'expiring', 'expired', 'rotated'] as const;
export type ApiKeyStatus = (typeof KEY_STATUSES)[number];

/**
 * Names are compared as people see them: NFC-normalised and trimmed, so "é" typed two ways is
 * one name. A lone surrogate cannot be stored faithfully (it would become U+FFFD): refused.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const normaliseName = ({ value }: { value: unknown }) =>
  typeof value === 'string' && !LONE_SURROGATE.test(value) ? value.normalize('NFC').trim() : value;

/**
 * Only what people can see and tell apart: no control (Cc), format (Cf: U+200B, U+202E …),
 * surrogate (Cs) or unassigned (Cn) code points, no line or paragraph separators, no space but
 * U+0020, no default-ignorable code points (Hangul fillers, U+034F, U+17B4 …), no blank braille
 * pattern, and no combining mark at the start. Emoji keep their joiners and presentation
 * selectors: U+200D between pictographs, U+FE0E/U+FE0F after one.
 */
const PICTOGRAPH = /\p{Extended_Pictographic}/u;
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]|(?! )\p{Zs}/u;

export function isVisibleName(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const chars = [...value];
  if (chars.length > 0 && /^\p{M}/u.test(chars[0])) return false;
  return chars.every((char, i) => {
    if (!INVISIBLE.test(char)) return true;
    const before = chars[i - 1] ?? '';
    const after = chars[i + 1] ?? '';
    const afterPictograph = PICTOGRAPH.test(before) || (before === '\uFE0F' && PICTOGRAPH.test(chars[i - 2] ?? ''));
    if (char === '\u200D') return afterPictograph && PICTOGRAPH.test(after);
    if (char === '\uFE0F' || char === '\uFE0E') return PICTOGRAPH.test(before);
    return false;
  });
}

function IsVisibleName(message: string) {
  return ValidateBy({ name: 'isVisibleName', validator: { validate: isVisibleName, defaultMessage: () => message } });
}

export class CreateApiKeyRequest {
  @ApiProperty({ example: 'CI deploy script', minLength: 1, maxLength: 255, description: 'Trimmed; unique among your active keys.' })
  @Transform(normaliseName)
  @IsDefined({ message: 'name is required' })
  @IsString({ message: 'name must be a string' })
  @IsNotEmpty({ message: 'name must not be empty' })
  @MaxLength(255, { message: 'name must be at most 255 characters' })
  @IsVisibleName('name may hold visible characters and plain spaces only (no control, format or invisible characters)')
  name: string;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2027-06-30T23:59:59Z',
    nullable: true,
    description:
      "ISO 8601; a time without zone is read as UTC. Omit for the calling key's own expiry (none for a session or token), " +
      'null for no expiry. Must be in the future and within the maximum lifetime.',
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsISO8601({ strict: true }, { message: 'expires_at must be an ISO 8601 date-time, e.g. 2027-06-30T23:59:59Z' })
  expires_at?: string | null;

  @ApiPropertyOptional({
    type: String,
    format: 'date-time',
    example: '2026-12-01T00:00:00Z',
    nullable: true,
    description:
      "ISO 8601; the key is refused before this time. Omit or null for the calling key's own not_before, if any (otherwise at once).",
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsISO8601({ strict: true }, { message: 'not_before must be an ISO 8601 date-time' })
  not_before?: string | null;

  @ApiPropertyOptional({
    enum: ALL_SCOPES,
    enumName: SCOPE_SCHEMA,
    isArray: true,
    uniqueItems: true,
    description:
      'Defaults to every scope the caller holds except the opt-in webhooks:read and webhooks:write; asking for one it lacks is a 403 `insufficient_scope`.',
  })
  // Absent means "every scope I hold"; null is not an array and is refused like one.
  @ValidateIf((_o, value) => value !== undefined)
  @IsArray({ message: 'scopes must be an array' })
  @ArrayUnique({ message: 'scopes must not repeat' })
  @IsIn(ALL_SCOPES, { each: true, message: `each scope must be one of: ${ALL_SCOPES.join(', ')}` })
  scopes?: Scope[];
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1000000,
    nullable: true,
    description:
      "Requests a minute the key may make; past it, 429 with `Retry-After` and the IETF `RateLimit` headers. Absent or null: no per-key limit (or, for a key created by a limited key, that key's limit).",
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt({ message: 'rate_limit_per_minute must be an integer' })
  @Min(1, { message: 'rate_limit_per_minute must be at least 1' })
  @Max(1000000, { message: 'rate_limit_per_minute must be at most 1000000' })
  rate_limit_per_minute?: number | null;
}

export class ApiKeyResponse {
  @ApiProperty({ type: 'integer', example: 7 }) id: number;
  @ApiProperty({ example: 'CI deploy script' }) name: string;
  @ApiProperty({ example: 'sk-oh-…x9Qz', description: 'Prefix and last four characters; never the key.' }) key_hint: string;
  @ApiProperty({ enum: ALL_SCOPES, enumName: SCOPE_SCHEMA, isArray: true }) scopes: Scope[];
  @ApiProperty({ type: String, format: 'date-time', example: '2026-11-29T18:00:00.000Z' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null, description: 'Null until the key is first used.' })
  last_used_at: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2027-06-30T23:59:59.000Z',
    description: 'Null: never expires.',
  })
  expires_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, example: null, description: 'Null: valid from its creation.' })
  not_before: string | null;
  @ApiProperty({
    enum: KEY_STATUSES,
    enumName: 'ApiKeyStatus',
    description: 'active; expiring (within EXPIRY_WARNING_DAYS); expired; rotated (replaced, works until expires_at)',
  })
  status: ApiKeyStatus;
  @ApiProperty({ type: 'integer', nullable: true, example: null, description: 'Requests a minute, or null for no per-key limit' })
  rate_limit_per_minute: number | null;
}

export class ApiKeyCreatedResponse extends ApiKeyResponse {
  @ApiProperty({ example: 'sk-oh-3fJk…', description: 'The full key. Shown this once; it cannot be retrieved again.' })
  key: string;
}

export class RotateApiKeyRequest {
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 0,
    maximum: 604800,
    // No `default` keyword: generators would make the member required in request types.
    description: 'How long the old key keeps working, in seconds (at most 7 days). Absent or 0: it stops at once.',
  })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(604800)
  grace_period_seconds?: number;
  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: 1000000,
    nullable: true,
    description:
      "Requests a minute the key may make; past it, 429 with `Retry-After` and the IETF `RateLimit` headers. Absent: the old key's limit; null: none.",
  })
  @IsOptional()
  @ValidateIf((_o, v) => v !== null)
  @IsInt({ message: 'rate_limit_per_minute must be an integer' })
  @Min(1, { message: 'rate_limit_per_minute must be at least 1' })
  @Max(1000000, { message: 'rate_limit_per_minute must be at most 1000000' })
  rate_limit_per_minute?: number | null;
}

export class ReplacedKey {
  @ApiProperty({ type: 'integer' }) id: number;
  @ApiProperty({ type: String, format: 'date-time', description: 'When the old key stops working' }) expires_at: string;
}

export class ApiKeyRotatedResponse extends ApiKeyCreatedResponse {
  @ApiProperty({ type: ReplacedKey }) replaced: ReplacedKey;
}

export class MessageResponse {
  @ApiProperty({ example: 'API key deleted successfully' }) message: string;
}

export class CurrentCredentialResponse {
  @ApiPropertyOptional({ type: 'integer', example: 7, description: 'Only when an API key is calling.' }) id?: number;
  @ApiPropertyOptional({ example: 'CI deploy script', description: 'Only when an API key is calling.' }) name?: string;
  @ApiProperty({ example: 'a1b2c3d4-…' }) user_id: string;
  @ApiProperty({ enum: AUTH_TYPES, enumName: 'AuthType', description: 'How the caller authenticated.' }) auth_type: AuthType;
  @ApiProperty({ enum: ALL_SCOPES, enumName: SCOPE_SCHEMA, isArray: true }) scopes: Scope[];
  @ApiPropertyOptional({ example: 'alice', description: 'The signed-in user, when the identity provider names one.' }) username?: string;
}
