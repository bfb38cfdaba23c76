import { AppConfig } from './app-config';

/**
 * For unit specs: a configuration with every secret given, so nothing is generated on disk,
 * and a Keycloak URL, so no embedded provider is implied. `env` overrides or adds variables.
 */
export function unitTestConfig(env: Record<string, string> = {}): AppConfig {
  return AppConfig.fromEnv({
    API_KEY_HASH_SECRET: 'h'.repeat(32),
    SESSION_SECRET: 's'.repeat(32),
    LLM_KEY_ENCRYPTION_KEY: 'l'.repeat(32),
    VERIFY_SERVICE_TOKEN: 'v'.repeat(32),
    KEYCLOAK_URL: 'https://sso.example.com',
    ...env,
  });
}
