import type { ProblemCode } from '../common/problem-codes';

/** Why a presented credential was refused: one typed reason per thing that can be wrong. */
export type RejectionReason =
  | 'malformed_authorization'
  | 'malformed_key'
  | 'unknown_key'
  | 'expired_key'
  | 'rotated_key'
  | 'revoked_key'
  | 'key_not_yet_valid'
  | 'malformed_token'
  | 'unsupported_algorithm'
  | 'wrong_issuer'
  | 'unknown_signing_key'
  | 'signing_keys_unavailable'
  | 'invalid_signature'
  | 'expired_token'
  | 'token_not_yet_valid'
  | 'invalid_audience'
  | 'wrong_token_type'
  | 'no_subject'
  | 'no_expiry'
  | 'ended_session'
  | 'untyped_token'
  | 'invalid_service_token';

/** Thrown (or handed to Passport's `fail`) when a credential is refused; never for server faults. */
export class CredentialRejected extends Error {
  constructor(
    readonly reason: RejectionReason,
    /** Extra words for people, e.g. the token type that was presented. */
    readonly hint?: string,
    /** The replaced key a `rotated_key` refusal is about: its use is worth an audit event. */
    readonly rotatedKey?: { id: number; userId: string },
  ) {
    super(reason);
  }
}

/**
 * The one place where a refusal becomes a problem `code` and a sentence for the caller (also in
 * `WWW-Authenticate`). Exhaustive: a new reason does not compile until it is described here.
 */
export function describeRejection(rejection: CredentialRejected): { code: ProblemCode; detail: string } {
  switch (rejection.reason) {
    case 'malformed_authorization':
      return { code: 'malformed_authorization', detail: 'The Authorization header must be "Bearer <token>".' };
    case 'malformed_key':
      return { code: 'malformed_key', detail: 'The API key is malformed or its checksum does not match.' };
    case 'unknown_key':
      return { code: 'unknown_key', detail: 'The API key is not known.' };
    case 'expired_key':
      return { code: 'expired_key', detail: 'The API key has expired.' };
    case 'rotated_key':
      return {
        code: 'rotated_key',
        detail: `This API key was replaced by rotation${rejection.hint ? ` on ${rejection.hint}` : ''} and its grace period is over; use the new key.`,
      };
    case 'revoked_key':
      return { code: 'revoked_key', detail: 'The API key has been deleted.' };
    case 'key_not_yet_valid':
      return { code: 'key_not_yet_valid', detail: 'The API key is not valid yet (see its not_before).' };
    case 'malformed_token':
      return { code: 'malformed_token', detail: 'The bearer token is neither one of our API keys nor a well-formed JWT.' };
    case 'unsupported_algorithm':
      return { code: 'invalid_token', detail: 'The access token must be signed with RS256.' };
    case 'wrong_issuer':
      return { code: 'invalid_issuer', detail: 'The access token was issued by another issuer than the one this service trusts.' };
    case 'unknown_signing_key':
      return { code: 'invalid_token', detail: 'The access token is signed with a key the identity provider does not publish.' };
    case 'signing_keys_unavailable':
      return { code: 'invalid_token', detail: "The identity provider's keys could not be fetched to verify the token." };
    case 'invalid_signature':
      return { code: 'invalid_token', detail: 'The access token signature does not verify.' };
    case 'expired_token':
      return { code: 'expired_token', detail: 'The access token has expired.' };
    case 'token_not_yet_valid':
      return { code: 'token_not_yet_valid', detail: 'The access token is not valid yet.' };
    case 'invalid_audience':
      return { code: 'invalid_audience', detail: 'The access token was not issued for this service (audience/azp not accepted).' };
    case 'wrong_token_type':
      return { code: 'wrong_token_type', detail: `A ${rejection.hint ?? 'non-access'} token is not an access token.` };
    case 'no_subject':
      return { code: 'invalid_token', detail: 'The access token has no usable subject (a string of 1 to 255 printable characters).' };
    case 'no_expiry':
      return { code: 'invalid_token', detail: 'The access token has no expiry (exp); only expiring tokens are accepted.' };
    case 'ended_session':
      return { code: 'session_ended', detail: 'This access token belongs to a session that was signed out.' };
    case 'untyped_token':
      return {
        code: 'wrong_token_type',
        detail: 'The token does not say it is an access token (Keycloak typ "Bearer" claim, or an RFC 9068 at+jwt header).',
      };
    case 'invalid_service_token':
      return { code: 'invalid_service_token', detail: 'The service token is not valid for the verification API.' };
  }
}
