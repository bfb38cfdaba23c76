import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMinSize, ArrayUnique, IsArray, IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsStorableText } from '../common/validation';
import { WEBHOOK_EVENTS, type WebhookEvent } from './webhook-events';

const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

export class CreateWebhookRequest {
  @ApiProperty({ example: 'https://hooks.example.com/api-keys', maxLength: 2048, description: 'https (http only in development)' })
  @Transform(trim)
  @IsString({ message: 'url must be a string' })
  @MaxLength(2048, { message: 'url must be at most 2048 characters' })
  @IsStorableText()
  url: string;

  @ApiProperty({ enum: WEBHOOK_EVENTS, enumName: 'WebhookEvent', isArray: true, uniqueItems: true, minItems: 1 })
  @IsArray({ message: 'events must be an array' })
  @ArrayMinSize(1, { message: 'events must name at least one event' })
  @ArrayUnique({ message: 'events must not repeat' })
  @IsIn(WEBHOOK_EVENTS, { each: true, message: `each event must be one of: ${WEBHOOK_EVENTS.join(', ')}` })
  events: WebhookEvent[];

  @ApiPropertyOptional({ example: 'Security channel', maxLength: 200 })
  @IsOptional()
  @Transform(trim)
  @IsString({ message: 'description must be a string' })
  @MaxLength(200, { message: 'description must be at most 200 characters' })
  @IsStorableText()
  description?: string;
}

export class WebhookResponse {
  @ApiProperty({ type: 'integer', example: 3 }) id: number;
  @ApiProperty({ example: 'https://hooks.example.com/api-keys' }) url: string;
  @ApiProperty({ example: 'Security channel' }) description: string;
  @ApiProperty({ enum: WEBHOOK_EVENTS, enumName: 'WebhookEvent', isArray: true }) events: WebhookEvent[];
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({ enum: ['enabled', 'disabled'] }) status: 'enabled' | 'disabled';
  @ApiProperty({ type: String, nullable: true, description: 'Why deliveries stopped, when disabled' }) disabled_reason: string | null;
  @ApiProperty({ type: 'integer', description: 'Failed attempts since the last success' }) consecutive_failures: number;
}

export class WebhookCreatedResponse extends WebhookResponse {
  @ApiProperty({
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    description: 'The Standard Webhooks signing secret, shown this once: verify `webhook-signature` with it.',
  })
  secret: string;
}

export class WebhookDeliveryResponse {
  @ApiProperty({ type: 'integer', example: 42 }) id: number;
  @ApiProperty({ example: 'msg_evt1234', description: 'The `webhook-id` header: the same on every retry, for idempotency' })
  message_id: string;
  @ApiProperty({ example: 'api_key.revoked' }) event_type: string;
  @ApiProperty({ enum: ['pending', 'delivered', 'failed'] }) status: 'pending' | 'delivered' | 'failed';
  @ApiProperty({ type: 'integer' }) attempts: number;
  @ApiProperty({ type: 'integer', nullable: true, description: "The receiver's last HTTP status" }) last_status_code: number | null;
  @ApiProperty({ type: String, nullable: true, description: 'Why the last attempt failed' }) last_error: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) created_at: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) last_attempt_at: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When a pending delivery is tried next' })
  next_attempt_at: string | null;
}

export class WebhookDeliveryPage {
  @ApiProperty({ type: [WebhookDeliveryResponse] }) items: WebhookDeliveryResponse[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `after` for the next page' }) next_cursor: string | null;
}
