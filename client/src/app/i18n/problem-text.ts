import type { components } from '../api/openapi';
import type { Translate } from './i18n';

type Problem = components['schemas']['Problem'];
type ProblemCode = components['schemas']['ProblemCode'];

/**
 * Every problem code the API documents: the console has its own words for each (`problems.<code>`
 * in every language; the key-parity spec checks them). Keyed by the generated union, so a code the
 * server adds does not compile until it is here.
 */
export const KNOWN_PROBLEM_CODES: Record<ProblemCode, true> = {
  bad_request: true,
  validation_failed: true,
  invalid_id: true,
  invalid_cursor: true,
  not_found: true,
  rate_limited: true,
  internal_error: true,
  database_unavailable: true,
  missing_credential: true,
  malformed_authorization: true,
  malformed_key: true,
  unknown_key: true,
  expired_key: true,
  rotated_key: true,
  already_rotated: true,
  revoked_key: true,
  key_not_yet_valid: true,
  malformed_token: true,
  invalid_token: true,
  invalid_issuer: true,
  expired_token: true,
  token_not_yet_valid: true,
  invalid_audience: true,
  wrong_token_type: true,
  session_ended: true,
  invalid_service_token: true,
  insufficient_scope: true,
  admin_role_required: true,
  csrf_token_invalid: true,
  too_many_failed_authentications: true,
  api_key_not_found: true,
  duplicate_name: true,
  key_limit_reached: true,
  invalid_validity_window: true,
  webhook_not_found: true,
  webhook_limit_reached: true,
  webhook_disabled: true,
  login_expired: true,
  login_failed: true,
  identity_provider_unavailable: true,
  llm_gateway_error: true,
  llm_gateway_unavailable: true,
  llm_key_busy: true,
};

/**
 * What to tell the person about a problem. The API writes its problems in English, and its
 * `detail` is the most specific account (it names the key, the limit): in English the console
 * shows it. In another language it shows its own translation of the problem's `code` when it
 * knows the code, and the English detail only for a code it does not know.
 */
export function problemText(problem: Partial<Problem>, t: Translate, lang: string, fallback?: string): string {
  const known = typeof problem.code === 'string' && problem.code in KNOWN_PROBLEM_CODES;
  if (lang !== 'en' && known) return t(`problems.${problem.code}`);
  if (problem.detail) return problem.detail;
  if (known) return t(`problems.${problem.code}`);
  return fallback ?? problem.title ?? t('common.somethingWrong');
}
