import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { AppConfig } from '../../server/src/config/app-config';
import { type RunningApp, startApp } from '../../server/src/bootstrap';
import { freePort } from './free-port';

export { freePort };

/** Collects every log line the app writes, to search it for secrets. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    done();
  }
  get text(): string {
    return this.lines.join('\n');
  }
}

/**
 * A database for one test app: a fresh database on the PostgreSQL server named by
 * TEST_DATABASE_URL (CI), or none, so the app starts its embedded PGlite in memory.
 */
async function freshDatabase(): Promise<{ url?: string; drop(): Promise<void> }> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) return { url: undefined, drop: async () => undefined };
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      const c = new Client({ connectionString: server });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface TestApp {
  url: string;
  running: RunningApp;
  config: AppConfig;
  logs: LogCapture;
  dataDir: string;
  databaseUrl?: string;
  /** Runs SQL on the app's own database. */
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'keys-test-'));
  const database = await freshDatabase();
  const config = AppConfig.fromEnv({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    DATABASE_POOL_SIZE: '5',
    ...(database.url ? { DATABASE_URL: database.url } : {}),
    ...env,
  });
  const logs = new LogCapture();
  const running = await startApp(config, { logStream: logs, embeddedInMemory: true });
  const { DataSource } = await import('typeorm');
  const dataSource = running.app.get(DataSource);
  return {
    url: running.url,
    running,
    config,
    logs,
    dataDir,
    databaseUrl: database.url,
    sql: (text, params) => dataSource.query(text, params),
    async close() {
      await running.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function devIdpPrivateKeyPem(app: TestApp): string {
  return (JSON.parse(readFileSync(join(app.dataDir, 'secrets.json'), 'utf8')) as { devIdpPrivateKeyPem: string }).devIdpPrivateKeyPem;
}
