import fastifyStatic from '@fastify/static';
import { DynamicModule, Inject, Injectable, Logger, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const CLIENT_DIR = Symbol('CLIENT_DIR');

/**
 * Serves the built Angular console at `/`: the hashed files with a long cache, and index.html
 * for every client-side route (/settings/api-keys, …). `/api` and `/realms` are left alone, so
 * an unknown API route still gets the API's problem+json 404, never the console's HTML.
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
      const path = request.url.split('?')[0];
      const wantsPage = !/^\/(api|realms)(\/|$)/.test(path) && !/\.[a-z0-9]+$/i.test(path);
      if (!wantsPage) return reply.callNotFound();
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
