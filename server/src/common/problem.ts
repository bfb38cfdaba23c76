import { HttpException } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { ProblemCode } from './problem-codes';

/** The media type of every error response (RFC 9457). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';
export const PROBLEM_CONTENT_TYPE = `${PROBLEM_MEDIA_TYPE}; charset=utf-8`;

export interface FieldError {
  field: string;
  message: string;
}

/** RFC 9457 problem details, plus the members this API adds (`code`, `errors`). */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** Stable machine-readable reason, e.g. `expired_key`. */
  code?: ProblemCode;
  errors?: FieldError[];
}

export interface ProblemInit {
  status: number;
  detail?: string;
  code?: ProblemCode;
  title?: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
}

export function problemType(code: ProblemCode | undefined): string {
  return code ? `/problems/${code.replace(/_/g, '-')}` : 'about:blank';
}

/**
 * The one exception the API throws on purpose. Whatever raises it, the problem filter turns it
 * into an `application/problem+json` response with the given headers.
 */
export class ApiProblem extends HttpException {
  readonly problem: ProblemInit;

  constructor(init: ProblemInit) {
    super(init.detail ?? STATUS_CODES[init.status] ?? 'Error', init.status);
    this.problem = init;
  }

  static badRequest(detail: string, code: ProblemCode = 'bad_request', errors?: FieldError[]) {
    return new ApiProblem({ status: 400, detail, code, errors });
  }
  static notFound(detail: string, code: ProblemCode = 'not_found') {
    return new ApiProblem({ status: 404, detail, code });
  }
  static conflict(detail: string, code: ProblemCode, errors?: FieldError[]) {
    return new ApiProblem({ status: 409, detail, code, errors });
  }
  static unprocessable(detail: string, errors: FieldError[], code: ProblemCode = 'validation_failed') {
    return new ApiProblem({ status: 422, detail, code, errors });
  }
  static unavailable(detail: string, code: ProblemCode, retryAfterSeconds = 5) {
    return new ApiProblem({ status: 503, detail, code, headers: { 'Retry-After': String(retryAfterSeconds) } });
  }
}

export function toProblemBody(init: ProblemInit, instance?: string): ProblemBody {
  const body: ProblemBody = {
    type: problemType(init.code),
    title: init.title ?? STATUS_CODES[init.status] ?? 'Error',
    status: init.status,
  };
  if (init.detail) body.detail = init.detail;
  if (instance) body.instance = instance;
  if (init.code) body.code = init.code;
  if (init.errors?.length) body.errors = init.errors;
  return body;
}
