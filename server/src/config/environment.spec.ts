import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppConfig } from './app-config';
import { ConfigError, parseEnvironment } from './environment';

describe('configuration', () => {
  const dataDir = () => mkdtempSync(join(tmpdir(), 'cfg-'));

  it('has working defaults', () => {
    const env = parseEnvironment({});
    expect(env.PORT).toBe(3000);
    expect(env.API_KEY_PREFIX).toBe('sk-oh-');
    expect(env.API_KEY_MAX_PER_USER).toBe(100);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['DATABASE_URL', 'mysql://x'],
    ['KEYCLOAK_URL', 'not a url'],
    ['API_KEY_PREFIX', 'Has Spaces'],
    ['API_KEY_HASH_SECRET', 'short'],
    ['KEY_CACHE_TTL_MS', '-1'],
    ['LOG_LEVEL', 'loud'],
    ['TRUST_PROXY', 'maybe'],
    ['TRUST_PROXY', 'true'],
    ['DEV_USERS', 'alice'],
    ['DEV_USERS', 'alice:alice,'],
    ['DEV_USERS', 'carol:'],
    ['API_KEY_ALLOWED_SCOPES', 'keys:read,keys:delete'],
    ['API_KEY_DEFAULT_SCOPES', 'keys:read,,mcp'],
    ['API_KEY_DEFAULT_SCOPES', 'admin:read'],
    ['API_KEY_EXPIRY_REQUIRED', 'sometimes'],
  ])('stops with a message naming %s when it is %p', (name, value) => {
    expect(() => parseEnvironment({ [name]: value })).toThrow(ConfigError);
    expect(() => parseEnvironment({ [name]: value })).toThrow(new RegExp(`^Invalid configuration:\\n  ${name}: `));
  });

  it('takes a generic OpenID issuer instead of Keycloak, with its audience and claim names', () => {
    const config = new AppConfig(
      parseEnvironment({
        OIDC_ISSUER: 'https://tenant.eu.auth0.com/',
        OIDC_AUDIENCE: 'https://api.example.com',
        OIDC_CLIENT_ID: 'spa',
        OIDC_ROLES_CLAIM: 'https://example.com/roles',
        DATA_DIR: dataDir(),
      }),
    );
    expect(config.oidc).toMatchObject({
      embedded: false,
      // Used exactly as given: Auth0's issuer ends in a slash and tokens say so.
      issuer: 'https://tenant.eu.auth0.com/',
      clientId: 'spa',
      audiences: ['https://api.example.com'],
      claims: { userId: 'sub', username: 'preferred_username', roles: 'https://example.com/roles' },
    });
    expect(config.oidc.jwksUri).toBeUndefined();
  });

  it.each([
    [{ OIDC_ISSUER: 'https://idp.example.com', KEYCLOAK_URL: 'https://sso.example.com' }, /KEYCLOAK_URL, OIDC_ISSUER: set one/],
    [{ OIDC_ISSUER: 'https://idp.example.com' }, /OIDC_AUDIENCE: required with OIDC_ISSUER/],
    [{ NODE_ENV: 'production', OIDC_ISSUER: 'http://idp.example.com', OIDC_AUDIENCE: 'api' }, /OIDC_ISSUER: must be https/],
    [{ OIDC_USER_ID_CLAIM: 'has spaces' }, /OIDC_USER_ID_CLAIM: OIDC_USER_ID_CLAIM must be a claim name/],
  ])('refuses an unusable provider setting %#', (env, message) => {
    expect(() => parseEnvironment(env)).toThrow(message);
  });

  it('never echoes a rejected secret', () => {
    try {
      parseEnvironment({ API_KEY_HASH_SECRET: 'tooshort-secret-value' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect((error as Error).message).not.toContain('tooshort-secret-value');
    }
  });

  it('refuses the embedded identity provider in production', () => {
    expect(() => parseEnvironment({ NODE_ENV: 'production' })).toThrow(/KEYCLOAK_URL or OIDC_ISSUER: required when NODE_ENV=production/);
  });

  it('refuses to run production on the embedded database unless explicitly allowed', () => {
    const production = { NODE_ENV: 'production', KEYCLOAK_URL: 'https://sso.example.com' };
    expect(() => parseEnvironment(production)).toThrow(
      /^Invalid configuration:\n {2}DATABASE_URL: required when NODE_ENV=production .*ALLOW_EMBEDDED_DATABASE=true/,
    );
    expect(parseEnvironment({ ...production, ALLOW_EMBEDDED_DATABASE: 'true' }).ALLOW_EMBEDDED_DATABASE).toBe(true);
    expect(parseEnvironment({ ...production, DATABASE_URL: 'postgres://db/x' }).DATABASE_URL).toBe('postgres://db/x');
  });

  it('names every missing production setting at once', () => {
    expect(() => parseEnvironment({ NODE_ENV: 'production' })).toThrow(
      /KEYCLOAK_URL or OIDC_ISSUER: required[^\n]*\n {2}DATABASE_URL: required/,
    );
  });

  describe('plain HTTP in production', () => {
    const production = {
      NODE_ENV: 'production',
      KEYCLOAK_URL: 'https://sso.example.com',
      DATABASE_URL: 'postgres://db/x',
      PUBLIC_URL: 'https://keys.example.com',
    };

    it('accepts https for both', () => {
      expect(() => parseEnvironment(production)).not.toThrow();
    });

    it('refuses an http:// KEYCLOAK_URL (signing keys over plain HTTP)', () => {
      expect(() => parseEnvironment({ ...production, KEYCLOAK_URL: 'http://sso.example.com' })).toThrow(
        /^Invalid configuration:\n {2}KEYCLOAK_URL: must be https:\/\/ when NODE_ENV=production .*ALLOW_INSECURE_HTTP=true/,
      );
    });

    it('refuses an http:// PUBLIC_URL (cookies without Secure)', () => {
      expect(() => parseEnvironment({ ...production, PUBLIC_URL: 'http://keys.example.com' })).toThrow(
        /^Invalid configuration:\n {2}PUBLIC_URL: must be https:\/\/ when NODE_ENV=production .*ALLOW_INSECURE_HTTP=true/,
      );
    });

    it('names both at once, with the other missing settings', () => {
      expect(() =>
        parseEnvironment({ NODE_ENV: 'production', KEYCLOAK_URL: 'http://10.0.0.5:8080', PUBLIC_URL: 'HTTP://keys.example.com' }),
      ).toThrow(/KEYCLOAK_URL: must be https[^\n]*\n {2}DATABASE_URL: required[^\n]*\n {2}PUBLIC_URL: must be https/);
    });

    it.each(['http://localhost:8080', 'http://127.0.0.1:8080', 'http://[::1]:8080', 'http://LOCALHOST'])(
      'allows the loopback address %s',
      (url) => {
        expect(() => parseEnvironment({ ...production, KEYCLOAK_URL: url, PUBLIC_URL: url })).not.toThrow();
      },
    );

    it.each(['http://localhost.example.com', 'http://127.0.0.1.nip.io', 'http://0.0.0.0:3000', 'http://10.0.0.1'])(
      'does not take %s for loopback',
      (url) => {
        expect(() => parseEnvironment({ ...production, PUBLIC_URL: url })).toThrow(/PUBLIC_URL: must be https/);
      },
    );

    it('allows plain HTTP with the explicit opt-out ALLOW_INSECURE_HTTP=true', () => {
      const env = parseEnvironment({
        ...production,
        KEYCLOAK_URL: 'http://sso.example.com',
        PUBLIC_URL: 'http://keys.example.com',
        ALLOW_INSECURE_HTTP: 'true',
      });
      expect(env.ALLOW_INSECURE_HTTP).toBe(true);
      const secrets = {
        API_KEY_HASH_SECRET: 'x'.repeat(32),
        SESSION_SECRET: 'y'.repeat(32),
        LLM_KEY_ENCRYPTION_KEY: 'z'.repeat(32),
        DATA_DIR: dataDir(),
      };
      expect(
        AppConfig.fromEnv({ ...production, ...secrets, PUBLIC_URL: 'http://keys.example.com', ALLOW_INSECURE_HTTP: 'true' }).publicUrl,
      ).toBe('http://keys.example.com');
    });

    it('keeps plain HTTP usable in development', () => {
      expect(() => parseEnvironment({ KEYCLOAK_URL: 'http://sso.example.com', PUBLIC_URL: 'http://keys.example.com' })).not.toThrow();
    });

    it('rejects a malformed ALLOW_INSECURE_HTTP', () => {
      expect(() => parseEnvironment({ ALLOW_INSECURE_HTTP: 'maybe' })).toThrow(/^Invalid configuration:\n {2}ALLOW_INSECURE_HTTP: /);
    });
  });

  it('requires explicit secrets in production with a shared database', () => {
    expect(() =>
      AppConfig.fromEnv({
        NODE_ENV: 'production',
        KEYCLOAK_URL: 'https://sso.example.com',
        DATABASE_URL: 'postgres://db/x',
        DATA_DIR: dataDir(),
      }),
    ).toThrow(/API_KEY_HASH_SECRET, SESSION_SECRET, LLM_KEY_ENCRYPTION_KEY: required/);
  });

  it('generates secrets once, owner-only, and keeps them across restarts', () => {
    const dir = dataDir();
    const first = AppConfig.fromEnv({ DATA_DIR: dir });
    const second = AppConfig.fromEnv({ DATA_DIR: dir });
    expect(first.apiKeys.hashSecret).toHaveLength(43);
    expect(second.apiKeys.hashSecret).toBe(first.apiKeys.hashSecret);
    expect(second.sessionSecret).toBe(first.sessionSecret);
    expect(second.devIdp.privateKeyPem).toBe(first.devIdp.privateKeyPem);
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
  });

  it('derives a Keycloak issuer and JWKS address', () => {
    const config = AppConfig.fromEnv({
      PUBLIC_URL: 'https://keys.example.com',
      KEYCLOAK_URL: 'https://sso.example.com/',
      KEYCLOAK_REALM: 'acme',
      API_KEY_HASH_SECRET: 'x'.repeat(32),
      SESSION_SECRET: 'y'.repeat(32),
    });
    expect(config.oidc.embedded).toBe(false);
    expect(config.oidc.issuer).toBe('https://sso.example.com/realms/acme');
    // Read from the provider's discovery document at first use, unless OIDC_JWKS_URI says otherwise.
    expect(config.oidc.jwksUri).toBeUndefined();
    expect(config.secureCookies).toBe(true);
  });

  it('uses the embedded provider on localhost without Secure cookies', () => {
    const config = AppConfig.fromEnv({ DATA_DIR: dataDir(), PORT: '4000' });
    expect(config.oidc.embedded).toBe(true);
    expect(config.oidc.issuer).toBe('http://localhost:4000/realms/dev');
    expect(config.secureCookies).toBe(false);
    expect(config.devIdp.users.map((u) => [u.username, u.roles])).toEqual([
      ['alice', []],
      ['bob', []],
      ['admin', ['api-keys-admin']],
    ]);
    expect(config.devIdp.users[0].sub).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('reads roles from DEV_USERS (name:password[:role+role]), backward compatible with name:password', () => {
    const config = AppConfig.fromEnv({
      DATA_DIR: dataDir(),
      DEV_USERS: 'alice:alice,carol:pw:api-keys-auditor+other-role,dave:p@ss:word',
    });
    expect(config.devIdp.users.map((u) => [u.username, u.password, u.roles])).toEqual([
      ['alice', 'alice', []],
      ['carol', 'pw', ['api-keys-auditor', 'other-role']],
      // A last part shaped like roles is the roles (documented): a password cannot end in ":word".
      ['dave', 'p@ss', ['word']],
    ]);
  });

  it('takes the organisation policy defaults: expiry required, allowed and default scopes', () => {
    const config = AppConfig.fromEnv({
      DATA_DIR: dataDir(),
      API_KEY_EXPIRY_REQUIRED: 'true',
      API_KEY_ALLOWED_SCOPES: 'keys:read, keys:write,mcp,admin:read',
      API_KEY_DEFAULT_SCOPES: 'keys:read',
    });
    expect(config.apiKeys).toMatchObject({
      expiryRequired: true,
      allowedScopes: ['keys:read', 'keys:write', 'mcp', 'admin:read'],
      defaultScopes: ['keys:read'],
    });
    expect(() => parseEnvironment({ API_KEY_ALLOWED_SCOPES: 'keys:read', API_KEY_DEFAULT_SCOPES: 'mcp' })).toThrow(
      /API_KEY_DEFAULT_SCOPES: mcp not in API_KEY_ALLOWED_SCOPES/,
    );
    expect(AppConfig.fromEnv({ DATA_DIR: dataDir() }).apiKeys).toMatchObject({
      expiryRequired: false,
      allowedScopes: [],
      defaultScopes: [],
    });
  });
});
