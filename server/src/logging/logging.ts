import { LoggerService } from '@nestjs/common';
import pino, { DestinationStream, Logger, LoggerOptions } from 'pino';
import { AccessLog } from './access-log';

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
 * Defence in depth: anything shaped like a secret this product issues or holds is masked
 * wherever it appears in a log line (a URL, an error message, a value a future change logs by
 * mistake): our API keys and LLM keys (`sk-oh-…`, `sk-oh-llm-…`), LiteLLM's keys (`sk-…`),
 * JWTs (access, refresh and ID tokens), and the configured secrets themselves (service token,
 * master key, hash, session and encryption secrets), whatever their shape.
 */
export function secretScrubber(prefix: string, secrets: readonly string[] = []): (text: string) => string {
  const escape = (value: string) => value.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
  const ourKeys = new RegExp(`${escape(prefix)}[0-9A-Za-z_-]{4,}`, 'g');
  const gatewayKeys = /\bsk-[0-9A-Za-z_-]{16,}/g;
  const jwts = /\beyJ[0-9A-Za-z_-]{4,}\.[0-9A-Za-z_-]{4,}\.[0-9A-Za-z_-]*/g;
  // Anything long and opaque (sealed cookies, tokens of unknown shape): no path or message of
  // ours holds such a run legitimately.
  const opaque = /[0-9A-Za-z_-]{40,}/g;
  const literal = secrets.filter((secret) => secret.length >= 8);
  const configured = literal.length > 0 ? new RegExp(literal.map(escape).join('|'), 'g') : undefined;
  return (text) => {
    let out = configured ? text.replace(configured, '[REDACTED]') : text;
    out = out.replace(ourKeys, `${prefix}[REDACTED]`).replace(gatewayKeys, 'sk-[REDACTED]').replace(jwts, '[REDACTED-JWT]');
    out = out.replace(opaque, '[REDACTED]');
    return out;
  };
}

function scrubValue(value: unknown, scrub: (s: string) => string, depth = 0): unknown {
  if (typeof value === 'string') return scrub(value);
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { type: value.name, message: scrub(value.message), ...(code ? { code } : {}), stack: value.stack && scrub(value.stack) };
  }
  if (Array.isArray(value)) return value.map((v) => scrubValue(v, scrub, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = scrubValue(v, scrub, depth + 1);
  return out;
}

/** The app's logger, and the access log beside it (see `createLogger`). */
export type AppLogger = Logger & {
  flushSync(): void;
  /**
   * For the one line per request: same level and destination, but without the general hook
   * that scrubs every string of every line. Its lines hold fields of known shape (request id,
   * method, address, status, time); it scrubs the one free-form field, the path.
   */
  access: AccessLog;
  /** Resolves when the log's destination has taken every queued line (bounded wait): for shutdown. */
  drained(): Promise<void>;
  scrub: (text: string) => string;
};

/**
 * The app's logger. Without a stream of the caller's (tests capture one), lines go to
 * `process.stdout`, which is what Node makes of fd 1: for a pipe or socket (containers,
 * journald) a non-blocking stream whose writes go straight to the kernel and queue in memory only
 * while the reader lags, so a slow reader never stops the event loop; for a file, synchronous
 * writes; for a terminal, synchronous too. Access lines reach it in batches (see `AccessLog`), so
 * a busy instance makes one `write` per ~55 requests, in place on the main thread. (Before, sonic-boom's
 * asynchronous mode handed every batch to libuv's thread pool: 2 µs of the main thread a request,
 * a tenth of an authenticated one, for a write that costs 0.1 µs done in place.)
 * `flushSync()` hands waiting access lines over at shutdown and after a fatal error.
 */
export function createLogger(level: string, scrub: (text: string) => string, stream?: DestinationStream): AppLogger {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    hooks: {
      logMethod(args, method) {
        const cleaned = args.map((a) => scrubValue(a, scrub)) as Parameters<typeof method>;
        return method.apply(this, cleaned);
      },
    },
  };
  const destination: DestinationStream = stream ?? process.stdout;
  const logger = pino(options, destination);
  // Batched only towards the real destination: tests read their captured lines at once.
  const access = new AccessLog(logger, destination, scrub, !stream, stream ? undefined : () => process.stdout.writableLength);
  const flushSync = () => access.flush();
  // Whatever way the process ends (an exit after a failed shutdown, say), waiting lines are handed over.
  if (!stream) process.once('exit', flushSync);
  return Object.assign(logger, { flushSync, drained: () => drained(stream ? undefined : process.stdout), access, scrub });
}

/** Resolves once `out` has handed everything queued to the kernel, or after `withinMs`. */
function drained(out: NodeJS.WriteStream | undefined, withinMs = 2000): Promise<void> {
  if (!out || out.writableLength === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, withinMs);
    timer.unref();
    out.once('drain', done);
    function done() {
      clearTimeout(timer);
      out!.off('drain', done);
      resolve();
    }
  });
}

type Level = 'info' | 'error' | 'warn' | 'debug' | 'trace' | 'fatal';

/** Nest's logger interface over pino, so framework and app messages share one structured log. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly pino: Logger) {}

  private write(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    // Nest appends the context (the logger's name) as the last string argument.
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    if (message !== null && typeof message === 'object' && !(message instanceof Error)) {
      this.pino[level]({ context, ...(message as object) }, typeof rest[0] === 'string' ? rest[0] : undefined);
    } else if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else {
      this.pino[level]({ context, ...(rest.length ? { details: rest } : {}) }, String(message));
    }
  }

  log(message: unknown, ...params: unknown[]) {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]) {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]) {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]) {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]) {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]) {
    this.write('fatal', message, params);
  }
}
