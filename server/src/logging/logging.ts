import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DestinationStream, LoggerOptions } from 'pino';
import type { Params } from 'nestjs-pino';

/** Headers and fields that may hold a credential: never written to a log. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-session-api-key"]',
  'req.headers["x-xsrf-token"]',
  'res.headers["set-cookie"]',
  'key',
  '*.key',
  'access_token',
  'refresh_token',
  'password',
];

/**
 * Defence in depth: anything shaped like one of our keys is masked wherever it appears in a log
 * line, even in a message a future change writes by mistake.
 */
export function keyScrubber(prefix: string): (text: string) => string {
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const pattern = new RegExp(`${escaped}[0-9A-Za-z]{8,}`, 'g');
  return (text) => text.replace(pattern, `${prefix}[REDACTED]`);
}

function scrubValue(value: unknown, scrub: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return { type: value.name, message: scrub(value.message), stack: value.stack && scrub(value.stack) };
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, scrub, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, scrub, depth + 1);
  return out;
}

/** Path without the query string: OAuth callbacks carry codes there. */
function pathOnly(url: string | undefined): string | undefined {
  return url?.split('?')[0];
}

export function loggerParams(level: string, keyPrefix: string, stream?: DestinationStream): Params {
  const scrub = keyScrubber(keyPrefix);
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      logMethod(args, method) {
        const cleaned = args.map((a) => scrubValue(a, scrub)) as Parameters<typeof method>;
        return method.apply(this, cleaned);
      },
    },
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string; remoteAddress?: string }) => ({
        id: req.id,
        method: req.method,
        url: pathOnly(req.url),
        remoteAddress: req.remoteAddress,
      }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
  return {
    pinoHttp: [
      {
        ...options,
        customLogLevel: (_req: IncomingMessage, res: ServerResponse, err?: Error) =>
          err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
        // Health probes and static assets would drown the log.
        autoLogging: { ignore: (req: IncomingMessage) => req.url === '/api/health' },
      },
      stream as DestinationStream,
    ].filter(Boolean) as Params['pinoHttp'],
  };
}
