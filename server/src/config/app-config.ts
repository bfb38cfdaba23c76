import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type { Scope } from '../credentials/scopes';
import { ConfigError, Environment, parseEnvironment, scopeList } from './environment';
import { loadOrCreateSecrets } from './secrets-store';
import { parseTrustedProxies, type TrustedProxies } from './trusted-proxies';

export interface DevUser {
  username: string;
  password: string;
  sub: string;
  email: string;
  /** Put in the tokens' `realm_access.roles` (e.g. api-keys-admin). */
  roles: string[];
}

/** Typed, validated configuration; built once at start and injected as `AppConfig`. */
export class AppConfig {
  readonly production: boolean;
  readonly port: number;
  readonly host: string;
  readonly publicUrl: string;
  readonly dataDir: string;
  readonly database: { url?: string; poolSize: number; connectTimeoutMs: number };
  readonly oidc: {
    embedded: boolean;
    issuer: string;
    /** Set for the embedded provider and by OIDC_JWKS_URI; otherwise read from discovery. */
    jwksUri?: string;
    jwksCooldownSeconds: number;
    clientId: string;
    clientSecret?: string;
    audiences: string[];
    clockToleranceSeconds: number;
    requireAccessTokenType: boolean;
    /** Which claims name the user, their display name and their roles. */
    claims: { userId: string; username: string; roles: string };
  };
  readonly devIdp: { users: DevUser[]; privateKeyPem: string };
  readonly apiKeys: {
    prefix: string;
    hashSecret: string;
    maxPerUser: number;
    maxLifetimeDays: number;
    /** The organisation policy's defaults until an admin stores one (see KeyPolicyService). */
    expiryRequired: boolean;
    /** Empty: every scope. */
    allowedScopes: Scope[];
    /** Empty: every allowed scope that is not opt-in. */
    defaultScopes: Scope[];
    cacheMaxEntries: number;
    cacheTtlMs: number;
    lastUsedWriteIntervalMs: number;
  };
  readonly authFailures: { limit: number; windowSeconds: number; maxConcurrentVerifications: number };
  readonly sessionSecret: string;
  readonly secureCookies: boolean;
  readonly bodyLimitBytes: number;
  readonly logLevel: string;
  readonly trustProxy: TrustedProxies;
  /** The built Angular console. */
  readonly clientDir: string;
  readonly llmKeys: { prefix: string; encryptionKey: string; litellm?: { url: string; masterKey: string; timeoutMs: number } };
  readonly verification: { serviceToken: string; ratePerMinute: number; generated: boolean };
  readonly operations: { metricsToken?: string; expiryWarningDays: number; auditRetentionDays: number };

  constructor(env: Environment) {
    this.production = env.NODE_ENV === 'production';
    this.port = env.PORT;
    this.host = env.HOST;
    this.publicUrl = (env.PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, '');
    this.dataDir = resolve(env.DATA_DIR);
    this.database = { url: env.DATABASE_URL, poolSize: env.DATABASE_POOL_SIZE, connectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS };

    const needGenerated =
      !env.API_KEY_HASH_SECRET ||
      !env.SESSION_SECRET ||
      (!env.KEYCLOAK_URL && !env.OIDC_ISSUER) ||
      !env.LLM_KEY_ENCRYPTION_KEY ||
      !env.VERIFY_SERVICE_TOKEN;
    if (this.production && env.DATABASE_URL && (!env.API_KEY_HASH_SECRET || !env.SESSION_SECRET || !env.LLM_KEY_ENCRYPTION_KEY)) {
      // Several instances share one database: each must hash and encrypt keys with the same secrets.
      throw new ConfigError(
        'Invalid configuration:\n  API_KEY_HASH_SECRET, SESSION_SECRET, LLM_KEY_ENCRYPTION_KEY: required when NODE_ENV=production with DATABASE_URL',
      );
    }
    const generated = needGenerated ? loadOrCreateSecrets(this.dataDir) : undefined;

    const embedded = !env.KEYCLOAK_URL && !env.OIDC_ISSUER;
    const realm = embedded ? 'dev' : env.KEYCLOAK_REALM;
    const base = embedded ? this.publicUrl : env.KEYCLOAK_URL?.replace(/\/+$/, '');
    // A generic issuer is used exactly as given: `iss` is compared byte for byte.
    const issuer = env.OIDC_ISSUER ?? `${base}/realms/${realm}`;
    // The embedded provider is this very process: fetch its JWKS over loopback, whatever
    // PUBLIC_URL a reverse proxy puts in front of it.
    const jwksBase = embedded ? `http://127.0.0.1:${env.PORT}/realms/${realm}` : issuer;
    this.oidc = {
      embedded,
      issuer,
      jwksUri: embedded ? `${jwksBase}/protocol/openid-connect/certs` : env.OIDC_JWKS_URI,
      jwksCooldownSeconds: env.JWKS_COOLDOWN_SECONDS,
      clientId: env.OIDC_CLIENT_ID ?? env.KEYCLOAK_CLIENT_ID,
      clientSecret: env.OIDC_CLIENT_SECRET ?? env.KEYCLOAK_CLIENT_SECRET,
      audiences: (env.OIDC_AUDIENCE ?? env.KEYCLOAK_AUDIENCE)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      clockToleranceSeconds: env.JWT_CLOCK_TOLERANCE_SECONDS,
      requireAccessTokenType: env.JWT_REQUIRE_ACCESS_TOKEN_TYPE,
      claims: { userId: env.OIDC_USER_ID_CLAIM, username: env.OIDC_USERNAME_CLAIM, roles: env.OIDC_ROLES_CLAIM },
    };
    this.devIdp = {
      users: env.DEV_USERS.split(',').map((entry) => {
        const i = entry.indexOf(':');
        const username = entry.slice(0, i);
        // name:password[:role+role]: a last part shaped like roles is the roles.
        const rest = entry.slice(i + 1);
        const roles = /^(.+):([A-Za-z0-9._/-]+(?:\+[A-Za-z0-9._/-]+)*)$/.exec(rest);
        return {
          username,
          password: roles ? roles[1] : rest,
          roles: roles ? roles[2].split('+') : [],
          sub: stableUuid(username),
          email: `${username}@example.test`,
        };
      }),
      privateKeyPem: generated?.devIdpPrivateKeyPem ?? '',
    };
    this.apiKeys = {
      prefix: env.API_KEY_PREFIX,
      hashSecret: env.API_KEY_HASH_SECRET ?? generated!.apiKeyHashSecret,
      maxPerUser: env.API_KEY_MAX_PER_USER,
      maxLifetimeDays: env.API_KEY_MAX_LIFETIME_DAYS,
      expiryRequired: env.API_KEY_EXPIRY_REQUIRED,
      allowedScopes: scopeList(env.API_KEY_ALLOWED_SCOPES),
      defaultScopes: scopeList(env.API_KEY_DEFAULT_SCOPES),
      cacheMaxEntries: env.KEY_CACHE_MAX_ENTRIES,
      cacheTtlMs: env.KEY_CACHE_TTL_MS,
      lastUsedWriteIntervalMs: env.LAST_USED_WRITE_INTERVAL_MS,
    };
    this.authFailures = {
      limit: env.AUTH_FAILURE_LIMIT,
      windowSeconds: env.AUTH_FAILURE_WINDOW_SECONDS,
      maxConcurrentVerifications: env.AUTH_MAX_CONCURRENT_VERIFICATIONS,
    };
    this.sessionSecret = env.SESSION_SECRET ?? generated!.sessionSecret;
    this.secureCookies = !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(this.publicUrl);
    this.bodyLimitBytes = env.BODY_LIMIT_BYTES;
    this.logLevel = env.LOG_LEVEL;
    this.trustProxy = parseTrustedProxies(env.TRUST_PROXY) as TrustedProxies;
    this.clientDir = resolve(env.CLIENT_DIR);
    this.llmKeys = {
      // LLM keys look like API keys but never pass as one: `sk-oh-llm-…` fails the API-key format.
      prefix: `${env.API_KEY_PREFIX}llm-`,
      encryptionKey: env.LLM_KEY_ENCRYPTION_KEY ?? generated!.llmKeyEncryptionKey,
      litellm:
        env.LITELLM_URL && env.LITELLM_MASTER_KEY
          ? { url: env.LITELLM_URL.replace(/\/+$/, ''), masterKey: env.LITELLM_MASTER_KEY, timeoutMs: env.LITELLM_TIMEOUT_MS }
          : undefined,
    };
    this.operations = {
      metricsToken: env.METRICS_TOKEN,
      expiryWarningDays: env.EXPIRY_WARNING_DAYS,
      auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    };
    this.verification = {
      serviceToken: env.VERIFY_SERVICE_TOKEN ?? generated!.verifyServiceToken,
      ratePerMinute: env.VERIFY_RATE_LIMIT_PER_MINUTE,
      generated: !env.VERIFY_SERVICE_TOKEN,
    };
  }

  /** Every configured secret, for the log scrubber: none of them may ever reach a log line. */
  get secrets(): string[] {
    return [
      this.apiKeys.hashSecret,
      this.sessionSecret,
      this.llmKeys.encryptionKey,
      this.verification.serviceToken,
      this.oidc.clientSecret,
      this.llmKeys.litellm?.masterKey,
      this.operations.metricsToken,
    ].filter((secret): secret is string => Boolean(secret));
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): AppConfig {
    return new AppConfig(parseEnvironment(env));
  }
}

/** A Keycloak-like UUID `sub` that stays the same for a development user across restarts. */
function stableUuid(name: string): string {
  const h = createHash('sha256').update(`dev-idp-user:${name}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
