import fastifyCookie from '@fastify/cookie';
import { Inject, Injectable, Module, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { AppLogger } from '../logging/logging';
import { Metrics } from '../metrics/metrics';
import secureJson from 'secure-json-parse';
import { AppConfig } from '../config/app-config';
import { jsonDepth, MAX_JSON_DEPTH } from './json-depth';

/** The app's pino logger (created before Nest, so framework messages use it too). */
export const APP_LOGGER = Symbol('APP_LOGGER');

/**
 * The policy of every HTML page we serve, the console's and Swagger UI's (both on the cookies'
 * origin): scripts only from this origin, nothing inline but styles (Angular Material and
 * Swagger UI set styles at run time).
 */
const PAGE_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'", "'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'self'"],
  formAction: ["'self'"],
  objectSrc: ["'none'"],
};

function policy(directives: Record<string, string[]>): string {
  return Object.entries(directives)
    .map(([name, sources]) => `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${sources.join(' ')}`)
    .join('; ');
}

/**
 * What every HTTP exchange goes through, outside the Nest pipeline: cookies, security headers
 * (`@fastify/helmet`, with the console's strict CSP on HTML pages), `no-store` on API answers,
 * the JSON body parser, and one access-log line per request.
 */
@Injectable()
class HttpPipeline implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly config: AppConfig,
    @Inject(APP_LOGGER) private readonly logger: AppLogger,
    private readonly metrics: Metrics,
  ) {}

  onModuleInit(): void {
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Session cookies for the guard (credential order: Authorization, cookie, MCP header).
    void fastify.register(fastifyCookie);
    this.securityHeaders(fastify);
    this.jsonBodies(fastify);
    this.accessLog(fastify);
  }

  private securityHeaders(fastify: FastifyInstance): void {
    const headers = securityHeaders(this.config);
    // First thing, so every answer has them (404s and errors too) and a route may still override one.
    fastify.addHook('onRequest', (_request, reply, done) => {
      reply.headers(headers);
      done();
    });
    const pageCsp = policy(PAGE_CSP);
    fastify.addHook('onSend', (request, reply, payload, done) => {
      // API answers are per user and may hold a key shown once: no cache may keep them.
      if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      const type = reply.getHeader('content-type');
      if (typeof type === 'string' && type.startsWith('text/html') && !reply.hasHeader('content-security-policy')) {
        reply.header('content-security-policy', pageCsp);
      }
      done(null, payload);
    });
  }

  /**
   * JSON in, JSON out: plain text bodies get a 415 instead of reaching the validators as
   * strings. Prototype-poisoning keys are dropped. (Replaces Nest's JSON parser; its
   * urlencoded parser stays, for the identity provider's token endpoint.) Clients such as the seed's Python example
   * send `Content-Type: application/json` on a DELETE without a body: empty means no body.
   */
  private jsonBodies(fastify: FastifyInstance): void {
    fastify.removeContentTypeParser(['application/json', 'text/plain']);
    fastify.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: this.config.bodyLimitBytes },
      (request, body, done) => {
        const text = body as string;
        if (text.trim() === '') return done(null, undefined);
        // Signed leak reports are verified over the exact bytes received.
        if (request.url.startsWith('/api/secret-scanning/')) (request as typeof request & { rawBody?: string }).rawBody = text;
        if (jsonDepth(text) > MAX_JSON_DEPTH) {
          const tooDeep = new Error(`The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels.`);
          return done(Object.assign(tooDeep, { statusCode: 400, code: 'FST_ERR_CTP_JSON_TOO_DEEP' }), undefined);
        }
        try {
          done(null, secureJson.parse(text, undefined, { protoAction: 'remove', constructorAction: 'remove' }));
        } catch {
          done(
            Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }),
            undefined,
          );
        }
      },
    );
  }

  /**
   * One line per request: method, path without its query (OAuth callbacks carry codes there),
   * status, time. Headers are never logged, so no credential can reach the log. A Fastify hook
   * rather than nestjs-pino's pino-http: it also sees requests Nest never routes (404s, the
   * console's files) and costs one pino call.
   */
  private accessLog(fastify: FastifyInstance): void {
    const access = this.logger.access;
    const durations = this.metrics.requestDurations;
    fastify.addHook('onResponse', (request, reply, done) => {
      // The route's template (`/api/keys/:id`), never the raw path: label values stay bounded.
      durations.observe(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
      if (!request.url.startsWith('/api/health')) {
        access.write({
          id: request.id,
          method: request.method,
          url: request.url,
          remoteAddress: request.ip,
          statusCode: reply.statusCode,
          responseTimeMs: reply.elapsedTime,
        });
      }
      done();
    });
  }
}

/** The security headers of every answer (helmet's, for this deployment), computed once. */
export function securityHeaders(config: AppConfig): Record<string, string> {
  return helmetHeaders({
    // Set per response: only HTML pages need a policy, and Swagger UI brings its own.
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Over plain HTTP (development on localhost) HSTS would be ignored at best.
    strictTransportSecurity: config.publicUrl.startsWith('https://') ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
}

/**
 * Helmet's headers for these options, computed once: none depends on the request, and running
 * helmet's dozen middlewares on every request (as `@fastify/helmet` does, with two promises) cost
 * about a tenth of a small answer's CPU.
 */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as never, response as never, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

@Module({ providers: [HttpPipeline] })
export class HttpPipelineModule {}
