import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength } from 'class-validator';
import { ALL_SCOPES, type Scope, SCOPE_SCHEMA } from '../credentials/scopes';

export class VerifyKeyRequest {
  @ApiProperty({ example: 'sk-oh-…', maxLength: 512, description: 'An API key or a BYOR LLM key (surrounding spaces are ignored).' })
  @IsDefined({ message: 'key is required' })
  @IsString({ message: 'key must be a string' })
  @MaxLength(512, { message: 'key must be at most 512 characters' })
  key: string;
}

export const VERIFICATION_CODES = [
  'VALID',
  'NOT_FOUND',
  'EXPIRED',
  'ROTATED',
  'REVOKED',
  'NOT_YET_VALID',
  'MALFORMED',
  'RATE_LIMITED',
] as const;
export type VerifyCode = (typeof VERIFICATION_CODES)[number];

export const KEY_KINDS = ['api_key', 'llm_key'] as const;

/** A limited key's budget after this verification, counted with the key's own requests here. */
export class VerifyRateLimit {
  @ApiProperty({ type: 'integer', example: 100, description: 'rate_limit_per_minute' }) limit: number;
  @ApiProperty({ type: 'integer', example: 42 }) remaining: number;
  @ApiProperty({ type: 'integer', example: 17, description: 'Seconds until the window ends' }) reset: number;
}

export class VerifyKeyResponse {
  @ApiProperty({ description: 'True only when the key may be used now (`code` is VALID).' }) valid: boolean;
  @ApiProperty({ enum: VERIFICATION_CODES, enumName: 'VerificationCode', description: 'Why the key is or is not valid.' }) code: VerifyCode;
  @ApiProperty({ type: String, nullable: true, example: 'a1b2c3d4-…', description: "The key's owner; null when no key was found." })
  user_id: string | null;
  @ApiProperty({ type: 'integer', nullable: true, example: 7, description: 'Null when no key was found.' }) key_id: number | null;
  @ApiProperty({
    type: String,
    // OpenAPI 3.0: a nullable enum lists null among its values.
    enum: [...KEY_KINDS, null],
    nullable: true,
    example: 'api_key',
    description: 'Null when no key was found.',
  })
  kind: (typeof KEY_KINDS)[number] | null;
  @ApiProperty({
    enum: ALL_SCOPES,
    enumName: SCOPE_SCHEMA,
    isArray: true,
    description: "An API key's scopes; empty for an LLM key or when no key was found.",
  })
  scopes: Scope[];
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2027-01-01T00:00:00.000Z',
    description: 'Null: never expires.',
  })
  expires_at: string | null;
  @ApiPropertyOptional({
    type: VerifyRateLimit,
    description:
      'Only for a key with rate_limit_per_minute: each verification counts against it (as its own requests here do); past it, `valid: false` and `code: RATE_LIMITED`.',
  })
  ratelimit?: VerifyRateLimit;
}
