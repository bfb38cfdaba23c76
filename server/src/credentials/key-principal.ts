import { CredentialRejected, RejectionReason } from './credential-rejected';
import type { KeyVerifier, VerificationCode, VerifiedKey } from './key-verifier.service';
import type { AuthType, Principal } from './principal';

const REASONS: Record<Exclude<VerificationCode, 'VALID'>, RejectionReason> = {
  MALFORMED: 'malformed_key',
  NOT_FOUND: 'unknown_key',
  EXPIRED: 'expired_key',
  ROTATED: 'rotated_key',
  REVOKED: 'revoked_key',
  NOT_YET_VALID: 'key_not_yet_valid',
};

/** What a replaced key in its grace period may no longer do: manage keys, administer, touch webhooks. */
const REPLACED_KEY_LOSES: ReadonlySet<string> = new Set(['keys:write', 'admin:write', 'webhooks:read', 'webhooks:write']);

/**
 * Each verified key's principals, made once: the cache hands out the same VerifiedKey until the
 * key's row is read again, and nothing changes a principal after the guard sets it (a JWT's
 * cached principal is shared across requests the same way).
 */
const principals = new WeakMap<VerifiedKey, Partial<Record<'api_key' | 'mcp', Principal>>>();

/** The principal an API key stands for, however it was presented. */
export function keyPrincipal(key: VerifiedKey, authType: Extract<AuthType, 'api_key' | 'mcp'>): Principal {
  let byType = principals.get(key);
  if (!byType) principals.set(key, (byType = {}));
  return (byType[authType] ??= principalOf(key, authType));
}

function principalOf(key: VerifiedKey, authType: Extract<AuthType, 'api_key' | 'mcp'>): Principal {
  return {
    userId: key.userId,
    authType,
    // A replaced key, in its grace period, may still be used but no longer manage keys: its
    // holder could otherwise rotate (or, with admin:write, revoke) the successor away from the
    // owner, or (webhooks) silence or follow the notices about the successor and its own late use.
    scopes: key.rotatedAt !== null ? key.scopes.filter((scope) => !REPLACED_KEY_LOSES.has(scope)) : key.scopes,
    apiKey: {
      id: key.id,
      name: key.name,
      expiresAt: key.expiresAt,
      notBefore: key.notBefore,
      rotatedAt: key.rotatedAt,
      rateLimitPerMinute: key.rateLimitPerMinute,
    },
  };
}

/** Full verification for the key strategies: the principal, or a CredentialRejected saying why not. */
export async function authenticateKey(
  verifier: KeyVerifier,
  candidate: string,
  authType: Extract<AuthType, 'api_key' | 'mcp'>,
): Promise<Principal> {
  const result = await verifier.verify(candidate);
  if (result.code !== 'VALID' || !result.key) {
    const rotatedAt = result.code === 'ROTATED' && result.key?.rotatedAt ? new Date(result.key.rotatedAt).toISOString() : undefined;
    const rotatedKey = result.code === 'ROTATED' && result.key ? { id: result.key.id, userId: result.key.userId } : undefined;
    throw new CredentialRejected(REASONS[result.code === 'VALID' ? 'NOT_FOUND' : result.code], rotatedAt, rotatedKey);
  }
  return keyPrincipal(result.key, authType);
}
