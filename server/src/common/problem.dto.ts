import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

class FieldErrorDto {
  @ApiProperty({ example: 'name' }) field: string;
  @ApiProperty({ example: 'name must be shorter than or equal to 255 characters' }) message: string;
}

/** RFC 9457 problem details, as every error of this API is sent (`application/problem+json`). */
export class ProblemResponse {
  @ApiProperty({ example: '/problems/validation-failed' }) type: string;
  @ApiProperty({ example: 'Unprocessable Entity' }) title: string;
  @ApiProperty({ example: 422 }) status: number;
  @ApiPropertyOptional({ example: 'The request is invalid: name: name should not be empty' }) detail?: string;
  @ApiPropertyOptional({ example: '/api/keys' }) instance?: string;
  @ApiPropertyOptional({ example: 'validation_failed', description: 'Stable machine-readable reason.' }) code?: string;
  @ApiPropertyOptional({ type: [FieldErrorDto] }) errors?: FieldErrorDto[];
}
