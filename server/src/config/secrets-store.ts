import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Server secrets that the embedded default keeps in the data folder (owner-only). */
export interface GeneratedSecrets {
  apiKeyHashSecret: string;
  sessionSecret: string;
  devIdpPrivateKeyPem: string;
  llmKeyEncryptionKey: string;
  verifyServiceToken: string;
}

/**
 * Loads `DATA_DIR/secrets.json`, creating it on first start. Keeping the secrets on disk means a
 * restart keeps every API key verifiable (the hash is keyed) and every console session valid.
 */
export function loadOrCreateSecrets(dataDir: string): GeneratedSecrets {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, 'secrets.json');
  let stored: Partial<GeneratedSecrets> = {};
  if (existsSync(file)) {
    stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<GeneratedSecrets>;
  }
  const complete: GeneratedSecrets = {
    apiKeyHashSecret: stored.apiKeyHashSecret ?? randomBytes(32).toString('base64url'),
    sessionSecret: stored.sessionSecret ?? randomBytes(32).toString('base64url'),
    llmKeyEncryptionKey: stored.llmKeyEncryptionKey ?? randomBytes(32).toString('base64url'),
    verifyServiceToken: stored.verifyServiceToken ?? randomBytes(32).toString('base64url'),
    devIdpPrivateKeyPem:
      stored.devIdpPrivateKeyPem ??
      generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  if (JSON.stringify(complete) !== JSON.stringify(stored)) {
    // Write-then-rename so a crash never leaves a truncated secrets file behind.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(complete, null, 2), { mode: 0o600 });
    renameSync(tmp, file);
  }
  chmodSync(file, 0o600);
  return complete;
}
