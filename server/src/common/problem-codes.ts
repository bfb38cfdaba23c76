/**
 * Every `code` the API puts in a problem body: stable, machine-readable, documented. The
 * console shows its own text for the ones it knows; new codes are added here first.
 */
export const PROBLEM_CODES = [
  // Requests
  'bad_request',
  'validation_failed',
  'invalid_id',
  'invalid_cursor',
  'not_found',
  'rate_limited',
  'internal_error',
  'database_unavailable',
  // Credentials (401) and permissions (403, 429)
  'missing_credential',
  'malformed_authorization',
  'malformed_key',
  'unknown_key',
  'expired_key',
  'rotated_key',
  'already_rotated',
  'revoked_key',
  'key_not_yet_valid',
  'malformed_token',
  'invalid_token',
  'invalid_issuer',
  'expired_token',
  'token_not_yet_valid',
  'invalid_audience',
  'wrong_token_type',
  'session_ended',
  'invalid_service_token',
  'insufficient_scope',
  'admin_role_required',
  'csrf_token_invalid',
  'too_many_failed_authentications',
  // API keys
  'api_key_not_found',
  'duplicate_name',
  'key_limit_reached',
  'invalid_validity_window',
  // Console sign-in
  'login_expired',
  'login_failed',
  'identity_provider_unavailable',
  // Webhooks
  'webhook_not_found',
  'webhook_limit_reached',
  'webhook_disabled',
  // LLM keys
  'llm_gateway_error',
  'llm_gateway_unavailable',
  'llm_key_busy',
] as const;

export type ProblemCode = (typeof PROBLEM_CODES)[number];
