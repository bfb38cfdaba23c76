import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem, PROBLEM_CONTENT_TYPE, ProblemInit, toProblemBody } from './problem';

const DB_DOWN_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** True when an error means "the database is not reachable", not "the query was wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  let e: unknown = error;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && DB_DOWN_CODES.has(code)) return true;
    if (
      typeof message === 'string' &&
      /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connect ECONNREFUSED|Client has encountered a connection error|the database system is (starting|shutting) down/i.test(
        message,
      )
    ) {
      return true;
    }
    e = (e as { driverError?: unknown; cause?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/** Fastify's request errors, in words for the caller. */
const FASTIFY_ERROR_DETAILS: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'The request body is too large.',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'Unsupported content type; send application/json.',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'The JSON body is empty.',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'Content-Length does not match the body.',
  FST_ERR_BAD_URL: 'The URL is malformed.',
  FST_ERR_MAX_PARAM_LENGTH: 'A path segment is too long.',
};

/** Maps any error to an RFC 9457 problem. The one place where errors become HTTP. */
export function problemFromError(error: unknown): ProblemInit {
  if (error instanceof ApiProblem) return error.problem;
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const res = error.getResponse();
    let detail: string | undefined;
    if (typeof res === 'string') detail = res;
    else if (res && typeof res === 'object') {
      const m = (res as { message?: unknown }).message;
      detail = Array.isArray(m) ? m.join('; ') : typeof m === 'string' ? m : undefined;
    }
    if (status === 404 && detail?.startsWith('Cannot ')) detail = 'No such route.';
    return { status, detail, code: status === 404 ? 'not_found' : undefined };
  }
  if (isDatabaseUnavailable(error)) {
    return {
      status: 503,
      detail: 'The database is unavailable; try again shortly.',
      code: 'database_unavailable',
      headers: { 'Retry-After': '5' },
    };
  }
  // Fastify's own errors (body too large, bad JSON, unsupported media type) carry a 4xx status.
  const statusCode = (error as { statusCode?: unknown })?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const fastifyCode = String((error as { code?: unknown }).code ?? '');
    const invalidJson = fastifyCode.startsWith('FST_ERR_CTP_INVALID_JSON') || error instanceof SyntaxError;
    const detail =
      FASTIFY_ERROR_DETAILS[fastifyCode] ??
      (fastifyCode === 'FST_ERR_CTP_JSON_TOO_DEEP'
        ? (error as Error).message
        : invalidJson
          ? 'The body is not valid JSON.'
          : 'The request could not be read.');
    return { status: statusCode, detail, code: 'bad_request' };
  }
  return { status: 500, detail: 'An unexpected error occurred.', code: 'internal_error' };
}

export function sendProblem(reply: FastifyReply, request: FastifyRequest, problem: ProblemInit): void {
  const body = toProblemBody(problem, request.url.split('?')[0]);
  reply.status(problem.status).header('content-type', PROBLEM_CONTENT_TYPE);
  for (const [name, value] of Object.entries(problem.headers ?? {})) reply.header(name, value);
  reply.header('cache-control', 'no-store');
  reply.header('x-content-type-options', 'nosniff');
  reply.send(JSON.stringify(body));
}

@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const problem = problemFromError(error);
    if (problem.status >= 500) {
      // The cause goes to the log only; the client sees a generic problem.
      this.logger.error({ err: error, url: request.url.split('?')[0], method: request.method }, 'request failed');
    }
    if (reply.sent) return;
    sendProblem(reply, request, problem);
  }
}
