import { BadRequestException, NotFoundException } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { ApiProblem } from './problem';
import { isDatabaseUnavailable, problemFromError } from './problem-details.filter';

describe('problemFromError', () => {
  it('keeps an ApiProblem as it is', () => {
    const problem = ApiProblem.conflict('dup', 'duplicate_name');
    expect(problemFromError(problem)).toEqual(problem.problem);
  });

  it('maps framework HTTP exceptions', () => {
    expect(problemFromError(new BadRequestException('nope'))).toMatchObject({ status: 400, detail: 'nope' });
    expect(problemFromError(new NotFoundException('Cannot GET /x'))).toMatchObject({
      status: 404,
      detail: 'No such route.',
      code: 'not_found',
    });
  });

  it('turns a lost database into a 503 with Retry-After', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(refused)).toBe(true);
    expect(
      isDatabaseUnavailable(
        new QueryFailedError(
          'SELECT 1',
          [],
          Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
        ),
      ),
    ).toBe(true);
    expect(problemFromError(new Error('Connection terminated unexpectedly'))).toMatchObject({
      status: 503,
      code: 'database_unavailable',
      headers: { 'Retry-After': '5' },
    });
  });

  it("keeps Fastify's 4xx errors as 4xx with a plain explanation", () => {
    const tooLarge = Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    expect(problemFromError(tooLarge)).toMatchObject({ status: 413, detail: 'The request body is too large.' });
  });

  it('hides everything about an unexpected error', () => {
    const problem = problemFromError(new TypeError('secret internals at /srv/app.js:1'));
    expect(problem).toEqual({ status: 500, detail: 'An unexpected error occurred.', code: 'internal_error' });
    expect(isDatabaseUnavailable(new QueryFailedError('SELECT', [], Object.assign(new Error('syntax error'), { code: '42601' })))).toBe(
      false,
    );
  });
});
