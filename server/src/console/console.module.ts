import fastifyStatic from '@fastify/static';
import { DynamicModule, Inject, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acceptsHtml } from '../common/accepts-html';
import { sendProblem } from '../common/problem-details.filter';

const CLIENT_DIR = Symbol('CLIENT_DIR');

/** Paths that are never the console's, whatever the client accepts. */
const RESERVED_PREFIXES = /^\/(api|realms|\.well-known|metrics|mcp|sse)(\/|$)/i;

/**
 * The SPA fallback rule: index.html only for a browser navigating to a client-side route — a
 * GET or HEAD that accepts text/html, for a path outside the reserved prefixes and without a
 * file extension. Crawlers, probes and API clients (`*\/*`, JSON) get a problem+json 404.
 */
export function wantsConsolePage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  if (!acceptsHtml(request.headers.accept)) return false;
  let path: string;
  try {
    path = decodeURIComponent(request.url.split('?')[0]);
  } catch {
    return false;
  }
  return !RESERVED_PREFIXES.test(path) && !/\.[a-z0-9]+$/i.test(path);
}

/**
 * Serves the built Angular console at `/`: the hashed files with a long cache, and index.html
 * for client-side routes (/settings/api-keys, …) under the rule of `wantsConsolePage`, so an
 * unknown API route, /metrics or /.well-known/… gets a problem+json 404, never the console's HTML.
 */
@Injectable()
class ConsoleServer implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(CLIENT_DIR) private readonly clientDir: string,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    const indexHtml = readFileSync(join(this.clientDir, 'index.html'), 'utf8');
    fastify.register(fastifyStatic, {
      root: this.clientDir,
      // One route per built file (file names carry content hashes, so they are cached for good).
      wildcard: false,
      index: false,
      setHeaders: (reply: { header(name: string, value: string): unknown }, path: string) => {
        reply.header('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
      },
    });
    // A plain Fastify route (outside Nest's guard): the page itself holds no data; its API calls
    // are authenticated. Static routes above and the API's own routes are more specific and win.
    fastify.get('/*', (request, reply) => {
      // The answer depends on Accept: caches must not hand the page to an API client or back.
      reply.header('vary', 'Accept');
      if (!wantsConsolePage(request)) return sendProblem(reply, request, { status: 404, detail: 'No such route.', code: 'not_found' });
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(indexHtml);
    });
  }
}

@Module({})
export class ConsoleModule {
  static register(clientDir: string): DynamicModule {
    if (!existsSync(join(clientDir, 'index.html'))) {
      new Logger(ConsoleModule.name).warn(`No console build in ${clientDir}: serving the API only (run npm run build).`);
      return { module: ConsoleModule };
    }
    return { module: ConsoleModule, providers: [{ provide: CLIENT_DIR, useValue: clientDir }, ConsoleServer] };
  }
}
