import { ApiProperty } from '@nestjs/swagger';
import { IsDefined, IsString, MaxLength } from 'class-validator';

export class VerifyKeyRequest {
  @ApiProperty({ example: 'sk-oh-…', description: 'An API key or a BYOR LLM key.' })
  @IsDefined({ message: 'key is required' })
  @IsString({ message: 'key must be a string' })
  @MaxLength(512, { message: 'key must be at most 512 characters' })
  key: string;
}

export const VERIFICATION_CODES = ['VALID', 'NOT_FOUND', 'EXPIRED', 'REVOKED', 'NOT_YET_VALID', 'MALFORMED'] as const;
export type VerifyCode = (typeof VERIFICATION_CODES)[number];

export class VerifyKeyResponse {
  @ApiProperty() valid: boolean;
  @ApiProperty({ enum: VERIFICATION_CODES }) code: VerifyCode;
  @ApiProperty({ nullable: true, type: String }) user_id: string | null;
  @ApiProperty({ nullable: true, type: Number }) key_id: number | null;
  @ApiProperty({ enum: ['api_key', 'llm_key'], nullable: true, type: String }) kind: 'api_key' | 'llm_key' | null;
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ nullable: true, type: String, example: '2027-01-01T00:00:00.000Z' }) expires_at: string | null;
}
