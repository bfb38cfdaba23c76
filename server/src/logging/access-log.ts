import { isIP } from 'node:net';
import { hostname } from 'node:os';
import type { DestinationStream, Logger } from 'pino';

/** What one access-log line says about a request. */
export interface AccessRecord {
  id: string;
  method: string;
  /** The raw URL as received; only its path is logged (OAuth callbacks carry codes in queries). */
  url: string;
  remoteAddress: string;
  statusCode: number;
  responseTimeMs: number;
}

/** Paths remembered as needing no scrubbing; past this many the memory starts over. */
const MAX_CLEAN_PATHS = 2048;
/** Longer paths are not remembered (the cache stays well under a megabyte). */
const MAX_REMEMBERED_PATH = 256;
/** Client addresses remembered in their JSON form; past this many the memory starts over. */
const MAX_ADDRESSES = 4096;
/** A request id that JSON needs no escapes for (Fastify's own are `req-` and a base-36 count). */
const PLAIN_ID = /^[\w.-]{1,64}$/;
/** The methods as JSON strings, so the common ones are not escaped on every line. */
const QUOTED_METHODS: Readonly<Record<string, string>> = Object.fromEntries(
  ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((method) => [method, `"${method}"`]),
);
/** Batched lines are handed on at this size (about 55 lines; under the destination's 16 kB write) or after BATCH_MAX_DELAY_MS. */
const BATCH_BYTES = 14 * 1024;
const BATCH_MAX_DELAY_MS = 500;
/**
 * While the destination holds this much not yet taken by its reader (a log shipper that stalls),
 * batches are dropped and counted instead of queued: a stuck reader costs bounded memory.
 */
export const MAX_BACKLOG_BYTES = 16 * 1024 * 1024;

/**
 * The one line per request, written straight to the logger's destination in pino's own format
 * (`level`, `time`, `pid`, `hostname`, `req`, `res`, `responseTime`, `msg`), so log shippers see
 * the same lines as before. Why not a pino call: pino serialises the nested `req`/`res` objects
 * with its generic, cycle-safe stringifier, and that, with the scrubbing of the path, was about a
 * tenth of an authenticated request's CPU. Here the shape is fixed, every client-controlled string
 * goes through `JSON.stringify` (or is checked to need no escapes), and a path already seen to
 * hold nothing secret is neither scrubbed nor escaped again (only such paths are remembered, so
 * no secret is kept in memory by this cache).
 *
 * With `batch`, lines are handed to the destination 14 kB at a time (or within half a second):
 * one `write` per ~55 requests. `flush()` hands over what is waiting (shutdown, fatal errors).
 * With `backlog` (bytes the destination still queues), a batch that would go on top of
 * MAX_BACKLOG_BYTES is dropped; the number of lines dropped is logged once the reader catches up.
 */
export class AccessLog {
  private readonly prefix: Record<'info' | 'warn' | 'error', string>;
  private readonly base: string;
  /** URL → its path as a JSON string, for paths seen to hold nothing secret. */
  private readonly cleanPaths = new Map<string, string>();
  /** Address → JSON string, for well-formed IP addresses only (not a proxy header's free text). */
  private readonly addresses = new Map<string, string>();
  /** `Date.now()` of the last line and its digits: many lines share a millisecond under load. */
  private lastTime = 0;
  private lastTimeText = '0';
  private batched: string[] = [];
  private batchedBytes = 0;
  private timer?: NodeJS.Timeout;
  /** Lines dropped since the last report (the destination's backlog was full). */
  private dropped = 0;

  constructor(
    private readonly levels: Logger,
    private readonly destination: DestinationStream,
    private readonly scrub: (text: string) => string,
    private readonly batch = false,
    private readonly backlog?: () => number,
  ) {
    const value = levels.levels.values;
    this.prefix = {
      info: `{"level":${value.info},"time":`,
      warn: `{"level":${value.warn},"time":`,
      error: `{"level":${value.error},"time":`,
    };
    this.base = `,"pid":${process.pid},"hostname":${JSON.stringify(hostname())},"req":{"id":`;
  }

  write(record: AccessRecord): void {
    const level = record.statusCode >= 500 ? 'error' : record.statusCode >= 400 ? 'warn' : 'info';
    if (!this.levels.isLevelEnabled(level)) return;
    // Built from pieces kept in their JSON form where they repeat (path, method, address, time):
    // escaping and number-to-text conversions were most of the line's cost.
    const now = Date.now();
    if (now !== this.lastTime) {
      this.lastTime = now;
      this.lastTimeText = String(now);
    }
    const id = record.id;
    const line =
      this.prefix[level] +
      this.lastTimeText +
      this.base +
      (PLAIN_ID.test(id) ? `"${id}"` : JSON.stringify(id)) +
      ',"method":' +
      (QUOTED_METHODS[record.method] ?? JSON.stringify(record.method)) +
      ',"url":' +
      this.loggablePath(record.url) +
      ',"remoteAddress":' +
      this.loggableAddress(record.remoteAddress) +
      '},"res":{"statusCode":' +
      record.statusCode +
      '},"responseTime":' +
      hundredths(record.responseTimeMs) +
      ',"msg":"request completed"}\n';
    if (!this.batch) {
      this.destination.write(line);
      return;
    }
    this.batched.push(line);
    this.batchedBytes += line.length;
    if (this.batchedBytes >= BATCH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), BATCH_MAX_DELAY_MS);
      this.timer.unref();
    }
  }

  /** Hands every waiting line to the destination. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.batched.length === 0) return;
    const lines = this.batched;
    this.batched = [];
    this.batchedBytes = 0;
    if (this.backlog && this.backlog() > MAX_BACKLOG_BYTES) {
      this.dropped += lines.length;
      return;
    }
    if (this.dropped > 0) {
      this.levels.warn({ dropped: this.dropped }, 'access-log lines dropped: the log reader fell behind');
      this.dropped = 0;
    }
    this.destination.write(lines.join(''));
  }

  /**
   * From the socket, an address; behind a trusted proxy, whatever X-Forwarded-For said (scrubbed,
   * since a client wrote it). As a JSON string.
   */
  private loggableAddress(address: string): string {
    const known = this.addresses.get(address);
    if (known !== undefined) return known;
    if (!isIP(address)) return JSON.stringify(this.scrub(address));
    if (this.addresses.size >= MAX_ADDRESSES) this.addresses.clear();
    const quoted = JSON.stringify(address);
    this.addresses.set(address, quoted);
    return quoted;
  }

  /**
   * The path without its query, percent-decoded (so the scrubber sees a secret however it was
   * encoded), then scrubbed: the only free-form field of the line. As a JSON string.
   */
  private loggablePath(url: string): string {
    // Only a whole URL without a query is remembered: a slice of it would keep the query (and
    // whatever secret a client put there) alive in memory along with it.
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const remember = query === -1 && url.length <= MAX_REMEMBERED_PATH;
    if (remember) {
      const known = this.cleanPaths.get(url);
      if (known !== undefined) return known;
    }
    const decoded = escapeLineSeparators(decodedPath(path));
    const scrubbed = this.scrub(decoded);
    const quoted = JSON.stringify(scrubbed);
    if (remember && scrubbed === decoded) {
      if (this.cleanPaths.size >= MAX_CLEAN_PATHS) this.cleanPaths.clear();
      this.cleanPaths.set(url, quoted);
    }
    return quoted;
  }
}

const DECIMALS = Array.from({ length: 100 }, (_, i) => (i < 10 ? '.0' : '.') + i);

/** Milliseconds to two decimals, as JSON (`1.20`): integer steps, no float-to-text conversion. */
function hundredths(ms: number): string {
  const total = Math.round(ms * 100);
  if (!(total >= 0 && total < 2 ** 31)) return String(Math.round(ms * 100) / 100);
  const whole = Math.floor(total / 100);
  return whole + DECIMALS[total - whole * 100];
}

/**
 * Percent-decoded, escape by escape: one malformed escape must not leave the rest of the path
 * (a key's body, say) encoded and so unrecognisable to the scrubber. A run of escapes that is
 * not valid UTF-8 keeps its non-ASCII bytes encoded and has its ASCII ones decoded.
 */
function decodedPath(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run.replace(/%([0-7][0-9A-Fa-f])/g, (_escape, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  });
}

/** JSON.stringify leaves these as they are; some log readers split lines on them. */
function escapeLineSeparators(text: string): string {
  return /[\u0085\u2028\u2029]/.test(text)
    ? text.replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : text;
}
