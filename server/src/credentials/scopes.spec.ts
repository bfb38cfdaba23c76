import { ALL_SCOPES, OPT_IN_SCOPES, scopesForRoles } from './scopes';

describe('scopes', () => {
  it('gives sessions every scope but the role-bound ones, which the roles add', () => {
    const plain = ['keys:read', 'keys:write', 'llm:read', 'llm:write', 'mcp', 'webhooks:read', 'webhooks:write'];
    expect(scopesForRoles([])).toEqual(plain);
    expect(scopesForRoles(['offline_access', 'api-keys-auditor'])).toEqual([...plain, 'admin:read']);
    expect(scopesForRoles(['api-keys-admin'])).toEqual([...plain, 'admin:read', 'admin:write']);
    expect(scopesForRoles(['API-KEYS-ADMIN'])).toEqual(plain); // roles are compared exactly
  });

  it('keeps the admin scopes opt-in', () => {
    expect(OPT_IN_SCOPES).toEqual(expect.arrayContaining(['admin:read', 'admin:write']));
    expect(OPT_IN_SCOPES.every((s) => ALL_SCOPES.includes(s))).toBe(true);
  });
});
