import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { join } from 'node:path';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { problemFromError, sendProblem } from './common/problem-details.filter';
import { AppConfig } from './config/app-config';
import { databaseConnection } from './database/data-source-options';
import { EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded-postgres';
import { type AppLogger, createLogger, PinoNestLogger, secretScrubber } from './logging/logging';
import { createOpenApiDocument } from './openapi/openapi-document';
import { securityHeaders } from './http/http-pipeline.module';

export interface RunningApp {
  app: NestFastifyApplication;
  config: AppConfig;
  /** Where the server listens (loopback), e.g. http://127.0.0.1:3000. */
  url: string;
  /** For a last word before the process ends (main.ts flushes it after fatal errors). */
  logger: AppLogger;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Tests capture logs here. */
  logStream?: DestinationStream;
  /** Keep the embedded database in memory instead of DATA_DIR/pglite (tests). */
  embeddedInMemory?: boolean;
}

function setUpOpenApi(app: NestFastifyApplication): void {
  const document = createOpenApiDocument(app);
  SwaggerModule.setup('api/docs', app, document, {
    jsonDocumentUrl: 'api/docs-json',
    swaggerOptions: { persistAuthorization: false, requestInterceptor: sendXsrfHeader },
  });
}

/**
 * Swagger UI's request interceptor, serialised into its init script and run in the browser:
 * "Try it out" with a console session sends the session's XSRF token, as the console does.
 */
function sendXsrfHeader(request: { headers: Record<string, string> }): { headers: Record<string, string> } {
  const cookies = (globalThis as unknown as { document: { cookie: string } }).document.cookie;
  const match = /(?:^|;\s*)XSRF-TOKEN=([^;]+)/.exec(cookies);
  if (match) request.headers['X-XSRF-TOKEN'] = decodeURIComponent(match[1]);
  return request;
}

/** Builds, configures and starts the app; used by `main.ts`, the tests and the benchmark. */
export async function startApp(config: AppConfig, options: StartOptions = {}): Promise<RunningApp> {
  const embedded: EmbeddedPostgres | undefined = config.database.url
    ? undefined
    : await startEmbeddedPostgres(options.embeddedInMemory ? undefined : join(config.dataDir, 'pglite'));
  // An LLM key refresh holds its transaction across (at most) two LiteLLM calls.
  const longestTransactionMs = config.llmKeys.litellm ? 2 * config.llmKeys.litellm.timeoutMs : 0;
  const database = databaseConnection(config.database, embedded?.url, longestTransactionMs);

  try {
    const headers = securityHeaders(config);
    const adapter = new FastifyAdapter({
      bodyLimit: config.bodyLimitBytes,
      // A hop count trusts that many proxies nearest to us; a list trusts those peers only.
      trustProxy:
        typeof config.trustProxy === 'number' ? (_address: string, hop: number) => hop < (config.trustProxy as number) : config.trustProxy,
      // HttpPipelineModule logs requests; Fastify's logger would log them twice.
      logger: false,
      return503OnClosing: true,
      // Errors Fastify's router raises before any hook (malformed URL, oversized path segment)
      // become problems too.
      // No hook has run yet: the security headers go on here.
      frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) =>
        sendProblem(reply.headers(headers), request, problemFromError(error)),
    });
    const logger = createLogger(config.logLevel, secretScrubber(config.apiKeys.prefix, config.secrets), options.logStream);
    const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, database, logger), adapter, {
      logger: new PinoNestLogger(logger),
      abortOnError: false,
    });
    setUpOpenApi(app);
    await app.listen({ port: config.port, host: config.host });
    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.port;

    return {
      app,
      config,
      url: `http://127.0.0.1:${port}`,
      logger,
      async close() {
        try {
          await app.close();
        } finally {
          logger.flushSync();
        }
        await embedded?.stop();
        // A pipe whose reader lags holds the last lines in memory: give it a moment to take them.
        await logger.drained();
      },
    };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}
