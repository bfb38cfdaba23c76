import type { KeyVerifier, VerificationCode, VerifiedKey } from '../../api-keys/key-verifier.service';
import { AuthFailure } from '../auth-problems';
import type { AuthType, Principal } from '../principal';

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

/** The principal an API key stands for, however it was presented. */
export function keyPrincipal(key: VerifiedKey, authType: Extract<AuthType, 'api_key' | 'mcp'>): Principal {
  return { userId: key.userId, authType, scopes: key.scopes, apiKey: { id: key.id, name: key.name } };
}

/** Full verification for the key strategies: the principal, or an AuthFailure saying why not. */
export async function authenticateKey(verifier: KeyVerifier, candidate: string, authType: Extract<AuthType, 'api_key' | 'mcp'>): Promise<Principal> {
  const result = await verifier.verify(candidate);
  if (result.code !== 'VALID' || !result.key) throw apiKeyFailure(result.code === 'VALID' ? 'NOT_FOUND' : result.code);
  return keyPrincipal(result.key, authType);
}
