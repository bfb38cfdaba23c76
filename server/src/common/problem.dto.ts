import { applyDecorators } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiSchema,
  getSchemaPath,
  type HeadersObject,
} from '@nestjs/swagger';
import { PROBLEM_MEDIA_TYPE } from './problem';
import { PROBLEM_CODES, type ProblemCode } from './problem-codes';

@ApiSchema({ name: 'FieldError' })
class FieldErrorDto {
  @ApiProperty({ example: 'name' }) field: string;
  @ApiProperty({ example: 'name must be at most 255 characters' }) message: string;
}

/** RFC 9457 problem details, as every error of this API is sent (`application/problem+json`). */
@ApiSchema({ name: 'Problem', description: 'RFC 9457 problem details: every error of this API.' })
export class ProblemResponse {
  @ApiProperty({
    example: '/problems/validation-failed',
    format: 'uri-reference',
    description: '`/problems/<code with dashes>`, or `about:blank` when there is no code.',
  })
  type: string;
  @ApiProperty({ example: 'Unprocessable Entity', description: 'The HTTP status text.' }) title: string;
  @ApiProperty({ type: 'integer', example: 422, minimum: 400, maximum: 599 }) status: number;
  @ApiPropertyOptional({ example: 'The request is invalid: name: name must not be empty' }) detail?: string;
  @ApiPropertyOptional({ example: '/api/keys', format: 'uri-reference', description: 'The path of the request.' }) instance?: string;
  @ApiPropertyOptional({
    enum: PROBLEM_CODES,
    enumName: 'ProblemCode',
    example: 'validation_failed',
    description: 'Stable machine-readable reason.',
  })
  code?: ProblemCode;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'For validation problems: what is wrong with each field.' })
  errors?: FieldErrorDto[];
}

/** Response headers that come with some problems. */
export const RETRY_AFTER: HeadersObject = {
  'Retry-After': { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 1 } },
};
export const WWW_AUTHENTICATE: HeadersObject = {
  'WWW-Authenticate': {
    description: 'RFC 6750: `Bearer realm="api"`, with `error` and `error_description` when a credential was refused.',
    schema: { type: 'string' },
  },
};

/**
 * Documents one error response as the problem filter sends it: `application/problem+json` with
 * the Problem schema. `codes` are the `code` values this route can answer with this status.
 */
export function ApiProblemResponse(status: number, description: string, codes: readonly ProblemCode[], headers?: HeadersObject) {
  const listed = codes.map((code) => `\`${code}\``).join(', ');
  return applyDecorators(
    ApiExtraModels(ProblemResponse),
    ApiResponse({
      status,
      description: `${description} Codes: ${listed}.`,
      ...(headers ? { headers } : {}),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: getSchemaPath(ProblemResponse) } } },
    }),
  );
}

/** The errors of a route that takes a JSON body, before any validation of its members. */
export function ApiBodyProblemResponses() {
  return applyDecorators(
    ApiProblemResponse(400, 'The body is not JSON, or is nested too deeply.', ['bad_request']),
    ApiProblemResponse(413, 'The body is too large.', ['bad_request']),
    ApiProblemResponse(415, 'The body is not `application/json`.', ['bad_request']),
  );
}
