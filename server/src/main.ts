import { AppConfig } from './config/app-config';
import { ConfigError } from './config/environment';
import { RunningApp, startApp } from './bootstrap';

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = AppConfig.fromEnv();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\nSee the configuration table in README.md.\n`);
      process.exit(2);
    }
    throw error;
  }

  const running: RunningApp = await startApp(config);
  const users = config.devIdp.users.map((u) => u.username).join(', ');
  const lines = [
    '',
    `  API key service is running at ${config.publicUrl}`,
    `  API docs (Swagger UI): ${config.publicUrl}/api/docs`,
    `  Database: ${config.database.url ? 'PostgreSQL server (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}/pglite`}`,
    config.oidc.embedded
      ? `  Sign in with the embedded development identity provider: users ${users} (password = username unless DEV_USERS says otherwise)\n` +
        `  Token for scripts: curl -d grant_type=password -d client_id=cli -d username=alice -d password=alice ${config.oidc.issuer}/protocol/openid-connect/token`
      : `  Sign-in: Keycloak at ${config.oidc.issuer}`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // In-flight requests finish, pending last-used times are written, then the database stops.
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`shutdown after ${signal} failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A crash still leaves its cause, and every buffered access-log line, in the log.
  const die = (kind: string) => (error: unknown) => {
    running.logger.fatal({ err: error }, kind);
    running.logger.flushSync();
    process.exit(1);
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled rejection'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
