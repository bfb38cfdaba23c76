import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject } from '@nestjs/swagger';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AppModule } from '../app.module';
import { AppConfig } from '../config/app-config';
import { createOpenApiDocument } from './openapi-document';

/**
 * The document the app serves at /api/docs-json, built without a database or a server: Nest's
 * preview mode resolves the module graph (which the document is read from) without creating
 * any provider, so nothing connects anywhere. The configuration is the embedded default's; no
 * setting changes the document.
 */
export async function buildOpenApiDocument(): Promise<OpenAPIObject> {
  const dataDir = mkdtempSync(join(tmpdir(), 'openapi-export-'));
  // Nest silences its static logger for `logger: false` anyway; doing it first also hushes the
  // console module's "no console build" notice, which says nothing about the document.
  Logger.overrideLogger(false);
  try {
    const config = AppConfig.fromEnv({ DATA_DIR: dataDir });
    const unused = { url: 'postgres://unused@127.0.0.1:1/unused', embedded: false, poolSize: 1, acquireTimeoutMs: 1 };
    const app = await NestFactory.create(AppModule.forRoot(config, unused, pino({ level: 'silent' })), new FastifyAdapter(), {
      preview: true,
      logger: false,
      abortOnError: false,
    });
    try {
      return createOpenApiDocument(app);
    } finally {
      await app.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
