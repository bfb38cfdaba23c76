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
/** The methods as JSON strings, so the common ones are not escaped on every line (a Map: no inherited names). */
const QUOTED_METHODS: ReadonlyMap<string, string> = new Map(
  ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'].map((method) => [method, `"${method}"`]),
);
/** The longest IP address in text (IPv4-mapped IPv6); longer is not remembered. */
const MAX_ADDRESS_LENGTH = 45;
/** Batched lines are handed on at this size (about 55 lines; under the destination's 16 kB write) or after BATCH_MAX_DELAY_MS. */
const BATCH_BYTES = 14 * 1024;
const BATCH_MAX_DELAY_MS = 500;
/** Slots per waiting request in AccessLog.pending. */
const FIELDS = 8;
type Level = 'info' | 'warn' | 'error';
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
  private readonly prefix: Record<Level, string>;
  private readonly base: string;
  /** URL → its path as a JSON string, for paths seen to hold nothing secret. */
  private readonly cleanPaths = new Map<string, string>();
  /** Address → JSON string, for well-formed IP addresses only (not a proxy header's free text). */
  private readonly addresses = new Map<string, string>();
  /** `Date.now()` of the last line and its digits: many lines share a millisecond under load. */
  private lastTime = 0;
  private lastTimeText = '0';
  /**
   * Requests waiting for their line (batched mode), FIELDS slots each: level, time, id, method,
   * path and address (both already JSON and scrubbed), status, response time. The lines are built
   * at the flush, in one loop: in a tight loop a line cost ~0.75 µs, built per request between
   * the request's other work 3–4 µs in the profile (whose access-line share of a key request
   * went from 6.2 to 3.8 %).
   */
  private pending: unknown[] = [];
  private pendingBytes = 0;
  /** A line's length without its variable fields: pendingBytes counts each line at most this short. */
  private readonly lineOverhead: number;
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
    this.lineOverhead = this.line('info', Date.now(), '', '', '', '', 200, 0).length;
  }

  write(record: AccessRecord): void {
    const level = record.statusCode >= 500 ? 'error' : record.statusCode >= 400 ? 'warn' : 'info';
    if (!this.levels.isLevelEnabled(level)) return;
    const time = Date.now();
    // Scrubbed now: the raw URL (a query may hold a secret) is not kept until the flush.
    const path = this.loggablePath(record.url);
    const address = this.loggableAddress(record.remoteAddress);
    if (!this.batch) {
      this.destination.write(this.line(level, time, record.id, record.method, path, address, record.statusCode, record.responseTimeMs));
      return;
    }
    this.pending.push(level, time, record.id, record.method, path, address, record.statusCode, record.responseTimeMs);
    this.pendingBytes += this.lineOverhead + record.id.length + record.method.length + path.length + address.length;
    if (this.pendingBytes >= BATCH_BYTES) this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), BATCH_MAX_DELAY_MS);
      this.timer.unref();
    }
  }

  /**
   * One line, from pieces kept in their JSON form where they repeat (path, method, address,
   * time): escaping and number-to-text conversions were most of its cost.
   */
  private line(
    level: Level,
    time: number,
    id: string,
    method: string,
    path: string,
    address: string,
    statusCode: number,
    responseTimeMs: number,
  ): string {
    if (time !== this.lastTime) {
      this.lastTime = time;
      this.lastTimeText = String(time);
    }
    return (
      this.prefix[level] +
      this.lastTimeText +
      this.base +
      (PLAIN_ID.test(id) ? `"${id}"` : JSON.stringify(id)) +
      ',"method":' +
      (QUOTED_METHODS.get(method) ?? JSON.stringify(method)) +
      ',"url":' +
      path +
      ',"remoteAddress":' +
      address +
      '},"res":{"statusCode":' +
      statusCode +
      '},"responseTime":' +
      hundredths(responseTimeMs) +
      ',"msg":"request completed"}\n'
    );
  }

  /** Hands every waiting line to the destination. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.backlog && this.backlog() > MAX_BACKLOG_BYTES) {
      // Dropped before any line is built: a lagging reader costs the app less, not more.
      this.dropped += pending.length / FIELDS;
      return;
    }
    if (this.dropped > 0) {
      this.levels.warn({ dropped: this.dropped }, 'access-log lines dropped: the log reader fell behind');
      this.dropped = 0;
    }
    const lines = new Array<string>(pending.length / FIELDS);
    for (let i = 0, line = 0; i < pending.length; i += FIELDS, line++) {
      lines[line] = this.line(
        pending[i] as Level,
        pending[i + 1] as number,
        pending[i + 2] as string,
        pending[i + 3] as string,
        pending[i + 4] as string,
        pending[i + 5] as string,
        pending[i + 6] as number,
        pending[i + 7] as number,
      );
    }
    // Joined, not concatenated: a concatenation is a tree of string pieces, and a reader that
    // lags makes the stream queue it as it is: several times the bytes of the text.
    this.destination.write(lines.join(''));
  }

  /**
   * From the socket, an address; behind a trusted proxy, whatever X-Forwarded-For said (scrubbed,
   * since a client wrote it). As a JSON string.
   */
  private loggableAddress(address: string): string {
    const known = this.addresses.get(address);
    if (known !== undefined) return known;
    // Only a plain address is remembered. Node's isIP also accepts an IPv6 zone id (`fe80::1%…`)
    // of any length and content: behind a proxy trusted too widely that is the client's free
    // text, so it is scrubbed and escaped like the path, and never kept.
    if (address.length > MAX_ADDRESS_LENGTH || address.includes('%') || !isIP(address)) {
      return JSON.stringify(escapeLineSeparators(this.scrub(address)));
    }
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
