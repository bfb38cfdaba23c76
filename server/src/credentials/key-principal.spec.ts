import type { VerifiedKey } from './key-verifier.service';
import { keyPrincipal } from './key-principal';

describe('keyPrincipal', () => {
  const key = (over: Partial<VerifiedKey> = {}): VerifiedKey => ({
    id: 7,
    userId: 'user-a',
    name: 'ci',
    scopes: ['keys:read', 'keys:write', 'mcp'],
    expiresAt: null,
    notBefore: null,
    revokedAt: null,
    rotatedAt: null,
    rateLimitPerMinute: null,
    ...over,
  });

  it('makes one principal per key and presentation, and a new one when the key is read again', () => {
    const first = key();
    const asKey = keyPrincipal(first, 'api_key');
    expect(keyPrincipal(first, 'api_key')).toBe(asKey);
    const asMcp = keyPrincipal(first, 'mcp');
    expect(asMcp).not.toBe(asKey);
    expect([asKey.authType, asMcp.authType]).toEqual(['api_key', 'mcp']);
    // A reload (say, after a rotation) is a new VerifiedKey: its principal says what the row says now.
    const rotated = keyPrincipal(key({ rotatedAt: 1, expiresAt: Date.now() + 60_000 }), 'api_key');
    expect(rotated).not.toBe(asKey);
    expect(rotated.scopes).toEqual(['keys:read', 'mcp']);
    expect(asKey.scopes).toEqual(['keys:read', 'keys:write', 'mcp']);
  });

  it("never hands one key's principal out for another user's key", () => {
    const principals = Array.from({ length: 50 }, (_, i) => keyPrincipal(key({ id: i, userId: `user-${i}` }), 'api_key'));
    expect(principals.map((p) => [p.userId, p.apiKey?.id])).toEqual(principals.map((_, i) => [`user-${i}`, i]));
  });
});
