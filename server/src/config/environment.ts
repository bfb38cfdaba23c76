import { ALL_SCOPES, OPT_IN_SCOPES, type Scope } from '../credentials/scopes';
import { parseTrustedProxies } from './trusted-proxies';
import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

const toInt = ({ value }: { value: unknown }) => (typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value);
const toBool = ({ value }: { value: unknown }) => {
  if (typeof value !== 'string') return value;
  const v = value.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
  return value;
};
/** A claim name (Auth0's are URLs) or a dotted path into nested claims. */
const CLAIM_PATH = /^[\w:/.-]{1,200}$/;
/** `name:password[:role+role]`: a role is letters, digits and . _ / - (Keycloak role names). */
const DEV_ROLE = '[A-Za-z0-9._/-]+';
const DEV_USER = `[A-Za-z0-9._-]+:[^,]+?(:${DEV_ROLE}(\\+${DEV_ROLE})*)?`;
const DEV_USERS_PATTERN = new RegExp(`^${DEV_USER}(,${DEV_USER})*$`);
const SCOPE_NAME = `(${ALL_SCOPES.join('|')})`;
const SCOPE_LIST_PATTERN = new RegExp(`^\\s*(${SCOPE_NAME}\\s*(,\\s*${SCOPE_NAME}\\s*)*)?$`);

/** A comma-separated scope list from the environment (validated by SCOPE_LIST_PATTERN). */
export function scopeList(value: string): Scope[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as Scope[];
}

const emptyToUndefined = ({ value }: { value: unknown }) => (typeof value === 'string' && value.trim() === '' ? undefined : value);

/**
 * Every environment variable the server reads, with its rule. Property names are the variable
 * names, so a validation error names exactly the variable to fix. README's table mirrors this.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'development';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 3000;

  @IsString()
  @MinLength(1)
  HOST = 'localhost';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  PUBLIC_URL?: string;

  @IsString()
  @MinLength(1)
  DATA_DIR = './data';

  @Transform(emptyToUndefined)
  @IsOptional()
  @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_SIZE = 10;

  /**
   * Lets NODE_ENV=production run without DATABASE_URL, on the embedded PGlite: one session in
   * this process, a single instance, for single-node trials only.
   */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_EMBEDDED_DATABASE = false;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  DATABASE_CONNECT_TIMEOUT_MS = 3000;

  /**
   * Lets NODE_ENV=production use http:// for KEYCLOAK_URL and PUBLIC_URL on other hosts than
   * loopback (e.g. a private network the operator trusts); without it production refuses them.
   */
  @Transform(toBool)
  @IsBoolean()
  ALLOW_INSECURE_HTTP = false;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  KEYCLOAK_URL?: string;

  @IsString()
  @Matches(/^[A-Za-z0-9._-]+$/, { message: 'KEYCLOAK_REALM may hold letters, digits, ".", "_" and "-"' })
  KEYCLOAK_REALM = 'dev';

  @IsString()
  @MinLength(1)
  KEYCLOAK_CLIENT_ID = 'console';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  KEYCLOAK_CLIENT_SECRET?: string;

  /** Comma-separated; a token is accepted when its `aud` or `azp` holds one of them. */
  @IsString()
  @MinLength(1)
  KEYCLOAK_AUDIENCE = 'console,cli';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(300)
  JWT_CLOCK_TOLERANCE_SECONDS = 30;

  /**
   * Any other OpenID Connect provider (Auth0, Okta, Entra ID, Zitadel, Authentik, oidc-provider…):
   * its issuer exactly as tokens name it; endpoints come from its discovery document. Instead of
   * KEYCLOAK_URL + KEYCLOAK_REALM, not with them.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  OIDC_ISSUER?: string;

  /** The console's client at the provider; KEYCLOAK_CLIENT_ID when unset. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  OIDC_CLIENT_ID?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  OIDC_CLIENT_SECRET?: string;

  /**
   * Comma-separated audiences an access token must name (`aud`, or the client in `azp` /
   * `client_id`); KEYCLOAK_AUDIENCE when unset. Required with OIDC_ISSUER: name the API's
   * identifier (resource), not the console's client id, or ID tokens would pass as access tokens.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(1)
  OIDC_AUDIENCE?: string;

  /** Claims, by name or dotted path (`realm_access.roles`); a name with dots is tried whole first. */
  @IsString()
  @Matches(CLAIM_PATH, { message: 'OIDC_USER_ID_CLAIM must be a claim name or a dotted path' })
  OIDC_USER_ID_CLAIM = 'sub';

  @IsString()
  @Matches(CLAIM_PATH, { message: 'OIDC_USERNAME_CLAIM must be a claim name or a dotted path' })
  OIDC_USERNAME_CLAIM = 'preferred_username';

  @IsString()
  @Matches(CLAIM_PATH, { message: 'OIDC_ROLES_CLAIM must be a claim name or a dotted path' })
  OIDC_ROLES_CLAIM = 'realm_access.roles';

  /** Where the provider's signing keys are, when not its discovery document's `jwks_uri`. */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  OIDC_JWKS_URI?: string;

  /** At most one key-set fetch per this many seconds for unknown `kid`s (a rotated key waits at most this long). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(300)
  JWKS_COOLDOWN_SECONDS = 10;

  /**
   * Access tokens must say they are access tokens: Keycloak's `typ: "Bearer"` claim or an
   * RFC 9068 `typ: at+jwt` header. `false` for a provider that marks them neither way (a
   * token that names another type, e.g. Refresh or ID, is refused regardless).
   */
  @Transform(toBool)
  @IsBoolean()
  JWT_REQUIRE_ACCESS_TOKEN_TYPE = true;

  /**
   * The Bearer token Prometheus sends to GET /metrics. Without it the endpoint answers loopback
   * clients only in development, and nobody in production: metrics are never public by default.
   */
  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'METRICS_TOKEN must be at least 32 characters' })
  METRICS_TOKEN?: string;

  /** Keys expiring within this many days count as "expiring soon" (metrics, and warnings to come). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(90)
  EXPIRY_WARNING_DAYS = 7;

  /** Audit events older than this are pruned (hourly, by one instance at a time). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3650)
  AUDIT_RETENTION_DAYS = 400;

  /**
   * Users of the embedded development identity provider: `name:password[:role+role]`, comma-separated
   * (`alice:alice,admin:admin:api-keys-admin`). The roles go into the tokens' `realm_access.roles`.
   * A last `:`-part that looks like roles is read as roles, so a password cannot end in `:word`.
   */
  @IsString()
  @Matches(DEV_USERS_PATTERN, {
    message:
      'DEV_USERS must look like alice:alice,bob:bob,carol:pw:api-keys-auditor+other-role (name:password[:role+role], comma-separated)',
  })
  DEV_USERS = 'alice:alice,bob:bob,admin:admin:api-keys-admin';

  @IsString()
  @Matches(/^[a-z][a-z0-9]{1,9}[_-]([a-z0-9]{1,9}[_-])?$/, {
    message: 'API_KEY_PREFIX must be 2-10 lowercase letters/digits ending in "_" or "-", like sk-oh-',
  })
  API_KEY_PREFIX = 'sk-oh-';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'API_KEY_HASH_SECRET must be at least 32 characters' })
  API_KEY_HASH_SECRET?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'SESSION_SECRET must be at least 32 characters' })
  SESSION_SECRET?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100000)
  API_KEY_MAX_PER_USER = 100;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(36500)
  API_KEY_MAX_LIFETIME_DAYS = 365;

  /** Organisation policy default (until an admin stores one): every new key must expire. */
  @Transform(toBool)
  @IsBoolean()
  API_KEY_EXPIRY_REQUIRED = false;

  /** Organisation policy default: the scopes new keys may hold (comma-separated); empty = all. */
  @IsString()
  @Matches(SCOPE_LIST_PATTERN, { message: `API_KEY_ALLOWED_SCOPES must be a comma-separated list of: ${ALL_SCOPES.join(', ')}` })
  API_KEY_ALLOWED_SCOPES = '';

  /**
   * Organisation policy default: the scopes a new key gets when its request names none
   * (comma-separated; empty = every allowed scope that is not opt-in). Never an opt-in scope.
   */
  @IsString()
  @Matches(SCOPE_LIST_PATTERN, { message: `API_KEY_DEFAULT_SCOPES must be a comma-separated list of: ${ALL_SCOPES.join(', ')}` })
  API_KEY_DEFAULT_SCOPES = '';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  KEY_CACHE_MAX_ENTRIES = 10000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  KEY_CACHE_TTL_MS = 30000;

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(86_400_000)
  LAST_USED_WRITE_INTERVAL_MS = 60000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  AUTH_FAILURE_LIMIT = 30;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86400)
  AUTH_FAILURE_WINDOW_SECONDS = 60;

  /**
   * Full verifications (a database lookup or an RSA check, i.e. credentials not in the cache)
   * one client may have running at once; more get 429. Keeps a burst of made-up keys from one
   * address from queueing everyone else behind it.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100_000)
  AUTH_MAX_CONCURRENT_VERIFICATIONS = 64;

  @Transform(toInt)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  BODY_LIMIT_BYTES = 16384;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /**
   * Proxies whose X-Forwarded-For names the client: addresses/CIDRs/presets, comma-separated,
   * or a hop count; empty = none (see trusted-proxies.ts).
   */
  @IsString()
  TRUST_PROXY = '';

  @IsString()
  @MinLength(1)
  CLIENT_DIR = './dist/client/browser';

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  LITELLM_URL?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(8, { message: 'LITELLM_MASTER_KEY must be at least 8 characters' })
  LITELLM_MASTER_KEY?: string;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(60000)
  LITELLM_TIMEOUT_MS = 5000;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'LLM_KEY_ENCRYPTION_KEY must be at least 32 characters' })
  LLM_KEY_ENCRYPTION_KEY?: string;

  @Transform(emptyToUndefined)
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'VERIFY_SERVICE_TOKEN must be at least 32 characters' })
  VERIFY_SERVICE_TOKEN?: string;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  VERIFY_RATE_LIMIT_PER_MINUTE = 60000;
}

export class ConfigError extends Error {}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for an http:// URL whose host is not loopback (localhost, 127.0.0.1, [::1]). */
export function isInsecureRemoteUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false; // the URL validators have already reported it
  }
  return parsed.protocol === 'http:' && !LOOPBACK_HOSTS.has(parsed.hostname);
}

export function parseEnvironment(env: NodeJS.ProcessEnv): Environment {
  const known = Object.keys(new Environment()).concat(
    'PUBLIC_URL',
    'DATABASE_URL',
    'KEYCLOAK_URL',
    'KEYCLOAK_CLIENT_SECRET',
    'API_KEY_HASH_SECRET',
    'SESSION_SECRET',
    'LITELLM_URL',
    'OIDC_JWKS_URI',
    'OIDC_ISSUER',
    'METRICS_TOKEN',
    'OIDC_CLIENT_ID',
    'OIDC_CLIENT_SECRET',
    'OIDC_AUDIENCE',
    'LITELLM_MASTER_KEY',
    'LLM_KEY_ENCRYPTION_KEY',
    'VERIFY_SERVICE_TOKEN',
  );
  const raw: Record<string, unknown> = {};
  for (const name of known) if (env[name] !== undefined) raw[name] = env[name];
  const parsed = plainToInstance(Environment, raw, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { whitelist: true });
  if (errors.length > 0) {
    // Never echo the rejected value: it may be a secret.
    const lines = errors.flatMap((e) => Object.values(e.constraints ?? {}).map((m) => `  ${e.property}: ${m}`));
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const proxies = parseTrustedProxies(parsed.TRUST_PROXY);
  if (!Array.isArray(proxies) && typeof proxies === 'object')
    throw new ConfigError(`Invalid configuration:\n  TRUST_PROXY: ${proxies.error}`);
  if (parsed.NODE_ENV === 'production') {
    const missing: string[] = [];
    const insecure = (name: string, why: string) =>
      `  ${name}: must be https:// when NODE_ENV=production (${why}); loopback hosts are exempt, ` +
      'and ALLOW_INSECURE_HTTP=true allows plain HTTP anyway';
    const provider = parsed.KEYCLOAK_URL ? 'KEYCLOAK_URL' : parsed.OIDC_ISSUER ? 'OIDC_ISSUER' : undefined;
    if (!provider) {
      missing.push(
        '  KEYCLOAK_URL or OIDC_ISSUER: required when NODE_ENV=production (the embedded development identity provider is for development only)',
      );
    } else if (!parsed.ALLOW_INSECURE_HTTP && isInsecureRemoteUrl(parsed[provider]!)) {
      missing.push(insecure(provider, 'the token signing keys and the sign-in would travel over plain HTTP'));
    }
    if (!parsed.DATABASE_URL && !parsed.ALLOW_EMBEDDED_DATABASE) {
      missing.push(
        '  DATABASE_URL: required when NODE_ENV=production (the embedded PGlite database is one session in this process, ' +
          'for development; set ALLOW_EMBEDDED_DATABASE=true to run a single-node trial on it anyway)',
      );
    }
    if (parsed.PUBLIC_URL && !parsed.ALLOW_INSECURE_HTTP && isInsecureRemoteUrl(parsed.PUBLIC_URL)) {
      missing.push(insecure('PUBLIC_URL', 'browsers would reach the console, its sign-in and its session cookies over plain HTTP'));
    }
    if (missing.length > 0) throw new ConfigError(`Invalid configuration:\n${missing.join('\n')}`);
  }
  if (parsed.KEYCLOAK_URL && parsed.OIDC_ISSUER) {
    throw new ConfigError(
      'Invalid configuration:\n  KEYCLOAK_URL, OIDC_ISSUER: set one (KEYCLOAK_URL + KEYCLOAK_REALM for Keycloak, OIDC_ISSUER for any other provider)',
    );
  }
  if (parsed.OIDC_ISSUER && !parsed.OIDC_AUDIENCE) {
    throw new ConfigError(
      "Invalid configuration:\n  OIDC_AUDIENCE: required with OIDC_ISSUER (the API's identifier that access tokens name in aud)",
    );
  }
  const allowed = scopeList(parsed.API_KEY_ALLOWED_SCOPES);
  const defaults = scopeList(parsed.API_KEY_DEFAULT_SCOPES);
  const optIn = defaults.filter((s) => OPT_IN_SCOPES.includes(s));
  if (optIn.length > 0) {
    throw new ConfigError(
      `Invalid configuration:\n  API_KEY_DEFAULT_SCOPES: ${optIn.join(', ')} ${optIn.length > 1 ? 'are' : 'is'} opt-in (granted only when asked for), never a default`,
    );
  }
  const notAllowed = allowed.length > 0 ? defaults.filter((s) => !allowed.includes(s)) : [];
  if (notAllowed.length > 0) {
    throw new ConfigError(`Invalid configuration:\n  API_KEY_DEFAULT_SCOPES: ${notAllowed.join(', ')} not in API_KEY_ALLOWED_SCOPES`);
  }
  if (Boolean(parsed.LITELLM_URL) !== Boolean(parsed.LITELLM_MASTER_KEY)) {
    throw new ConfigError(
      'Invalid configuration:\n  LITELLM_URL, LITELLM_MASTER_KEY: set both to use a LiteLLM proxy, or neither for the embedded LLM keys',
    );
  }
  return parsed;
}
