import type { VerificationCode } from '../../api-keys/key-verifier.service';
import { AuthFailure } from '../auth-problems';

const DESCRIPTIONS: Record<Exclude<VerificationCode, 'VALID'>, [string, string]> = {
  MALFORMED: ['malformed_key', 'The API key is malformed or its checksum does not match.'],
  NOT_FOUND: ['unknown_key', 'The API key is not known.'],
  EXPIRED: ['expired_key', 'The API key has expired.'],
  REVOKED: ['revoked_key', 'The API key has been deleted.'],
  NOT_YET_VALID: ['key_not_yet_valid', 'The API key is not valid yet (see its not_before).'],
};

export function apiKeyFailure(code: Exclude<VerificationCode, 'VALID'>): AuthFailure {
  const [failureCode, description] = DESCRIPTIONS[code];
  return new AuthFailure(failureCode, description);
}
