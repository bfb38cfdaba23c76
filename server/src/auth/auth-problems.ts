import { ApiProblem } from '../common/problem';
import { CredentialRejected, describeRejection } from '../credentials/credential-rejected';
import type { Scope } from '../credentials/scopes';

const REALM = 'realm="api"';

function quote(value: string): string {
  return value.replace(/["\\]/g, "'");
}

/** 401 without a credential: RFC 6750 says no error attribute then. */
export function missingCredential(): ApiProblem {
  return new ApiProblem({
    status: 401,
    code: 'missing_credential',
    detail:
      'Authentication required: send Authorization: Bearer <API key or access token>, the keycloak_auth session cookie, or X-Session-API-Key.',
    headers: { 'WWW-Authenticate': `Bearer ${REALM}` },
  });
}

/** 401 for a credential that was presented and refused, saying why. */
export function invalidCredential(rejection: CredentialRejected): ApiProblem {
  const { code, detail } = describeRejection(rejection);
  return new ApiProblem({
    status: 401,
    code,
    detail,
    headers: { 'WWW-Authenticate': `Bearer ${REALM}, error="invalid_token", error_description="${quote(detail)}"` },
  });
}

export function insufficientScope(scopes: Scope[], detail?: string): ApiProblem {
  return new ApiProblem({
    status: 403,
    code: 'insufficient_scope',
    detail: detail ?? `This credential lacks the scope ${scopes.join(' ')} needed here.`,
    headers: { 'WWW-Authenticate': `Bearer ${REALM}, error="insufficient_scope", scope="${scopes.join(' ')}"` },
  });
}

export function csrfRejected(): ApiProblem {
  return new ApiProblem({
    status: 403,
    code: 'csrf_token_invalid',
    detail: 'A cookie-authenticated change needs the X-XSRF-TOKEN header matching the XSRF-TOKEN cookie.',
  });
}

export function tooManyFailures(retryAfterSeconds: number): ApiProblem {
  return new ApiProblem({
    status: 429,
    code: 'too_many_failed_authentications',
    detail: `Too many failed authentications from this address. Try again in ${retryAfterSeconds} s.`,
    headers: { 'Retry-After': String(retryAfterSeconds) },
  });
}

export function tooManyVerifications(): ApiProblem {
  return new ApiProblem({
    status: 429,
    code: 'rate_limited',
    detail: 'Too many credentials from this address are being verified at once. Retry in a moment.',
    headers: { 'Retry-After': '1' },
  });
}

export function adminRoleRequired(roles: readonly string[]): ApiProblem {
  return new ApiProblem({
    status: 403,
    code: 'admin_role_required',
    detail: `This is an administration route: it needs the identity provider's role ${roles.join(' or ')} (an API key: one created with an admin scope).`,
  });
}
