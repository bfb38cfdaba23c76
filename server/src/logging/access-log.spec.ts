import pino from 'pino';
import { generateKey } from '../credentials/key-format';
import { AccessLog, type AccessRecord, MAX_BACKLOG_BYTES } from './access-log';
import { secretScrubber } from './logging';

describe('AccessLog', () => {
  const setUp = (level = 'info') => {
    const lines: string[] = [];
    const destination = { write: (line: string) => void lines.push(line) };
    const logger = pino({ level }, destination);
    const scrub = jest.fn(secretScrubber('sk-oh-'));
    return { lines, logger, scrub, log: new AccessLog(logger, destination, scrub) };
  };
  const record = (over: Partial<AccessRecord> = {}): AccessRecord => ({
    id: 'req-1',
    method: 'GET',
    url: '/api/keys?state=abc',
    remoteAddress: '203.0.113.9',
    statusCode: 200,
    responseTimeMs: 1.23456,
    ...over,
  });

  it("writes pino's line for the request, with the same fields and levels as a pino call would", () => {
    const { lines, logger, log } = setUp();
    log.write(record());
    logger.info(
      { req: { id: 'req-1', method: 'GET', url: '/api/keys', remoteAddress: '203.0.113.9' }, res: { statusCode: 200 }, responseTime: 1.23 },
      'request completed',
    );
    const [ours, theirs] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect({ ...ours, time: 0 }).toEqual({ ...theirs, time: 0 });
    expect(Object.keys(ours)).toEqual(Object.keys(theirs));
    log.write(record({ statusCode: 404 }));
    log.write(record({ statusCode: 503 }));
    expect(lines.slice(2).map((line) => (JSON.parse(line) as { level: number }).level)).toEqual([40, 50]);
  });

  it('keeps ids, methods and times exact through its shortcuts: escapes an id or method that needs it, rounds times as pino did', () => {
    const { lines, log } = setUp();
    const times = [0, 0.004, 0.005, 1.2, 12.345, 99.999, 123456.789, 3e9];
    for (const responseTimeMs of times) log.write(record({ responseTimeMs }));
    log.write(record({ id: 'x"}\n{"level":60', method: 'BREW\n' }));
    const parsed = lines.map((line) => JSON.parse(line) as { responseTime: number; req: { id: string; method: string } });
    expect(parsed.slice(0, times.length).map((line) => line.responseTime)).toEqual(times.map((ms) => Math.round(ms * 100) / 100));
    expect(parsed[times.length].req).toMatchObject({ id: 'x"}\n{"level":60', method: 'BREW\n' });
    expect(lines.every((line) => line.indexOf('\n') === line.length - 1)).toBe(true);
  });

  it('writes nothing below its level', () => {
    const { lines, log } = setUp('warn');
    log.write(record());
    expect(lines).toHaveLength(0);
    log.write(record({ statusCode: 401 }));
    expect(lines).toHaveLength(1);
  });

  it('escapes what the client controls and masks secrets in the path, however encoded', () => {
    const { lines, log } = setUp();
    const key = generateKey('sk-oh-');
    log.write(record({ url: `/api/keys/${encodeURIComponent(key).replace(/-/g, '%2D')}`, remoteAddress: '"}\n{"x":1' }));
    log.write(record({ url: `/api/keys/${key}`, remoteAddress: '"}\n{"x":1' }));
    for (const line of lines) {
      expect(line).not.toContain(key);
      const parsed = JSON.parse(line) as { req: { url: string; remoteAddress: string } };
      expect(parsed.req.url).toBe('/api/keys/sk-oh-[REDACTED]');
      expect(parsed.req.remoteAddress).toBe('"}\n{"x":1');
    }
  });

  it('scrubs a clean path once; never remembers a path that held a secret, nor a URL with a query (it would keep the query)', () => {
    const { log, scrub } = setUp();
    const key = generateKey('sk-oh-');
    for (let i = 0; i < 3; i++) log.write(record({ url: '/api/keys/current' }));
    expect(scrub).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 3; i++) log.write(record({ url: `/api/x/${key}` }));
    expect(scrub).toHaveBeenCalledTimes(4);
    for (let i = 0; i < 3; i++) log.write(record({ url: `/api/keys/current?api_key=${key}` }));
    expect(scrub).toHaveBeenCalledTimes(7);
    for (let i = 0; i < 2; i++) log.write(record({ url: `/api/${'a'.repeat(300)}` }));
    expect(scrub).toHaveBeenCalledTimes(9);
  });

  it('masks a key whose path also holds a malformed escape, and escapes line separators', () => {
    const { lines, log } = setUp();
    const key = generateKey('sk-oh-');
    const encoded = key.replace(/[A-Za-z]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    log.write(record({ url: `/api/keys/${encoded}/%ZZ/%E0%A4%A` }));
    log.write(record({ url: '/api/x%E2%80%A8{"level":30}%C2%85y%E2%80%A9' }));
    expect(lines[0]).not.toContain(key.slice(6, 20));
    expect((JSON.parse(lines[0]) as { req: { url: string } }).req.url).toBe('/api/keys/sk-oh-[REDACTED]/%ZZ/%E0%A4%A');
    expect(lines[1].split(/\r?\n|\u2028|\u2029|\u0085/).filter(Boolean)).toHaveLength(1);
    expect((JSON.parse(lines[1]) as { req: { url: string } }).req.url).toBe('/api/x\\u2028{"level":30}\\u0085y\\u2029');
  });

  it('treats an IPv6 zone id or an over-long address as free text: scrubbed, escaped, never remembered', () => {
    const { lines, log, scrub } = setUp();
    const key = generateKey('sk-oh-');
    // Node's isIP accepts any zone id; behind a proxy trusted too widely the client writes it.
    for (let i = 0; i < 2; i++) log.write(record({ url: '/api/keys/current', remoteAddress: `fe80::1%${key}` }));
    log.write(record({ url: '/api/keys/current', remoteAddress: 'evil\u0085{"level":60}' }));
    for (const line of lines) expect(line).not.toContain(key);
    expect(lines.map((line) => (JSON.parse(line) as { req: { remoteAddress: string } }).req.remoteAddress)).toEqual([
      'fe80::1%sk-oh-[REDACTED]',
      'fe80::1%sk-oh-[REDACTED]',
      'evil\\u0085{"level":60}',
    ]);
    expect(lines.every((line) => !/[\u0085\u2028\u2029]/.test(line))).toBe(true);
    // Once for the path (then remembered), once for each of the three addresses.
    expect(scrub).toHaveBeenCalledTimes(4);
  });

  it('logs a client address as it is, and masks a forwarded one that is not an address', () => {
    const { lines, log } = setUp();
    const key = generateKey('sk-oh-');
    log.write(record({ remoteAddress: '2001:db8::1' }));
    log.write(record({ remoteAddress: key }));
    expect(lines.map((line) => (JSON.parse(line) as { req: { remoteAddress: string } }).req.remoteAddress)).toEqual([
      '2001:db8::1',
      'sk-oh-[REDACTED]',
    ]);
  });
});

describe('AccessLog, batched', () => {
  const record: AccessRecord = { id: 'req-1', method: 'GET', url: '/api/keys', remoteAddress: '::1', statusCode: 200, responseTimeMs: 1 };
  const setUp = () => {
    const writes: string[] = [];
    const destination = { write: (text: string) => void writes.push(text) };
    return { writes, log: new AccessLog(pino({ level: 'info' }, destination), destination, (s) => s, true) };
  };
  afterEach(() => jest.useRealTimers());

  it('hands lines on together: within half a second, at 14 kB at once, and on flush', () => {
    jest.useFakeTimers();
    const { writes, log } = setUp();
    for (let i = 0; i < 3; i++) log.write(record);
    expect(writes).toHaveLength(0);
    jest.advanceTimersByTime(500);
    expect(writes).toHaveLength(1);
    expect(
      writes[0]
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { msg: string }).msg),
    ).toEqual(Array(3).fill('request completed'));

    let lines = 0;
    while (writes.length === 1) {
      log.write(record);
      lines++;
    }
    expect(writes[1].length).toBeGreaterThanOrEqual(14 * 1024);
    expect(writes[1].split('\n').length - 1).toBe(lines);

    log.write(record);
    log.flush();
    expect(writes).toHaveLength(3);
    jest.advanceTimersByTime(1000);
    expect(writes).toHaveLength(3);
  });

  it('drops and counts batches while the destination holds more than its bound, and says so once it catches up', () => {
    const writes: string[] = [];
    const destination = { write: (text: string) => void writes.push(text) };
    let backlog = MAX_BACKLOG_BYTES + 1;
    const log = new AccessLog(
      pino({ level: 'info' }, destination),
      destination,
      (s) => s,
      true,
      () => backlog,
    );
    for (let i = 0; i < 3; i++) log.write(record);
    log.flush();
    log.write(record);
    log.flush();
    expect(writes).toHaveLength(0);

    backlog = 0;
    log.write({ ...record, id: 'after' });
    log.flush();
    expect(writes).toHaveLength(2);
    expect(JSON.parse(writes[0])).toMatchObject({ level: 40, dropped: 4, msg: 'access-log lines dropped: the log reader fell behind' });
    expect(JSON.parse(writes[1])).toMatchObject({ req: { id: 'after' } });
    log.write(record);
    log.flush();
    expect(writes).toHaveLength(3);
  });
});
