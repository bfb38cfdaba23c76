import { execFileSync, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { call, createKey, passwordToken } from '../support/http';
import { PostgresServer } from '../support/postgres-server';
import { SpawnedApp } from '../support/spawned-app';
import { startTestApp, type TestApp } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Sample = { status: number; ms: number; problem: boolean };

async function timedGet(url: string, token: string): Promise<Sample> {
  const started = Date.now();
  try {
    const res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    const problem = (res.headers.get('content-type') ?? '').startsWith('application/problem+json');
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - started, problem };
  } catch {
    return { status: 0, ms: Date.now() - started, problem: false };
  }
}

describe('PostgreSQL stopped under load', () => {
  const pg = new PostgresServer();
  let app: TestApp;
  afterAll(async () => {
    await app?.close();
    pg.destroy();
  });

  it('fails fast with 503 problems, reports the database down, and recovers within 5 s without a restart', async () => {
    await pg.start();
    app = await startTestApp({ DATABASE_URL: pg.url, DATABASE_CONNECT_TIMEOUT_MS: '1000' });
    const token = await passwordToken(app, 'alice');
    await createKey(app, token);

    const samples: Sample[] = [];
    let running = true;
    const workers = Array.from({ length: 4 }, async () => {
      while (running) samples.push(await timedGet(`${app.url}/api/keys`, token));
    });

    await sleep(300);
    pg.halt();
    await sleep(2500);
    const health = await call(app, '/api/health');
    expect(health.status).toBe(503);
    expect(health.body).toEqual({ status: 'error', database: 'down' });
    const duringOutage = samples.length;

    await pg.start();
    const back = Date.now();
    let recoveredAfter = Infinity;
    while (Date.now() - back < 10_000) {
      if ((await timedGet(`${app.url}/api/keys`, token)).status === 200) {
        recoveredAfter = Date.now() - back;
        break;
      }
      await sleep(50);
    }
    running = false;
    await Promise.all(workers);

    expect(recoveredAfter).toBeLessThan(5000);
    expect(duringOutage).toBeGreaterThan(10);
    const failures = samples.filter((s) => s.status !== 200);
    expect(failures.length).toBeGreaterThan(0);
    // Every failure is a 503 problem, none a 500 or a dropped connection, none slower than 5 s.
    expect([...new Set(failures.map((s) => s.status))]).toEqual([503]);
    expect(failures.every((s) => s.problem)).toBe(true);
    expect(Math.max(...samples.map((s) => s.ms))).toBeLessThan(5000);
    expect((await call(app, '/api/health')).status).toBe(200);
  });
});

describe('The app killed and stopped (production build as a process)', () => {
  const pg = new PostgresServer();
  let url = '';
  beforeAll(async () => {
    url = await pg.start();
  });
  afterAll(() => pg.destroy());

  it('SIGKILL during a burst of creates: every key whose create returned 2xx exists and authenticates', async () => {
    const app = new SpawnedApp({ DATABASE_URL: url });
    await app.start();
    const token = await passwordToken({ url: app.url } as TestApp, 'alice');
    const created: string[] = [];
    let failed = 0;
    const burst = Array.from({ length: 16 }, async (_v, worker) => {
      for (let i = 0; i < 200; i++) {
        try {
          const res = await fetch(`${app.url}/api/keys`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ name: `burst-${worker}-${i}` }),
          });
          if (res.status === 201) created.push(((await res.json()) as { key: string }).key);
          else failed++;
        } catch {
          failed++;
          return; // the process is gone
        }
      }
    });
    await sleep(700);
    expect(await app.kill('SIGKILL')).toBe('SIGKILL');
    await Promise.all(burst);
    expect(created.length).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0); // the kill cut the burst short

    await app.start();
    const fresh = await passwordToken({ url: app.url } as TestApp, 'alice');
    for (const key of created) expect((await call({ url: app.url } as TestApp, '/api/keys/current', { token: key })).status).toBe(200);
    const db = new Client({ connectionString: url });
    await db.connect();
    const { rows } = await db.query(
      `SELECT count(*)::int AS n, count(*) FILTER (WHERE octet_length(key_hash) = 32 AND key_hint LIKE 'sk-oh-…%')::int AS whole FROM api_keys`,
    );
    await db.end();
    // Rows whose response was lost in the kill may exist, but every row is whole.
    expect(rows[0].n).toBeGreaterThanOrEqual(created.length);
    expect(rows[0].whole).toBe(rows[0].n);
    expect((await call({ url: app.url } as TestApp, '/api/keys', { token: fresh })).body.length).toBe(rows[0].n);
    await app.kill('SIGTERM');
  });

  it('SIGTERM: a request in flight finishes, pending last-used times are written, exit code 0', async () => {
    const app = new SpawnedApp({ DATABASE_URL: url, LAST_USED_WRITE_INTERVAL_MS: '600000' });
    await app.start();
    const token = await passwordToken({ url: app.url } as TestApp, 'bob');
    const key = await createKey({ url: app.url } as TestApp, token, { name: 'graceful' });
    await call({ url: app.url } as TestApp, '/api/keys/current', { token: key.key });
    await sleep(1200); // the first use is written
    await call({ url: app.url } as TestApp, '/api/keys/current', { token: key.key }); // pending for 10 minutes
    const secondUse = Date.now();

    // A create whose body is still arriving when SIGTERM comes.
    const port = Number(new URL(app.url).port);
    const body = JSON.stringify({ name: 'in-flight' });
    const socket = connect(port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    let response = '';
    socket.on('data', (d) => (response += d.toString()));
    socket.write(
      `POST /api/keys HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`,
    );
    await sleep(100);
    const exit = app.kill('SIGTERM');
    await sleep(200);
    socket.write(body.slice(5));
    await new Promise((r) => socket.once('close', r));
    expect(await exit).toBe(0);
    expect(response).toMatch(/^HTTP\/1\.1 201/);

    const db = new Client({ connectionString: url });
    await db.connect();
    const { rows } = await db.query('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id]);
    await db.end();
    expect(rows[0].last_used_at.getTime()).toBeGreaterThanOrEqual(secondUse - 50);
  });

  it('SIGTERM: every access-log line buffered by the asynchronous log is written before exit', async () => {
    const app = new SpawnedApp({ DATABASE_URL: url, LOG_LEVEL: 'info' });
    await app.start();
    const marker = `log-marker-${Date.now()}`;
    // Fewer than the 12 kB buffer holds: without a flush at shutdown these lines would be lost.
    for (let i = 0; i < 5; i++) await call({ url: app.url } as TestApp, `/api/${marker}-${i}`);
    expect(await app.kill('SIGTERM')).toBe(0);
    const lines = app.output.split('\n').filter((line) => line.includes(marker));
    expect(lines).toHaveLength(5);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ msg: 'request completed', res: { statusCode: 404 } });
  });

  it('an exit without the shutdown path (a failed close, say) still writes the batched access lines', () => {
    const logging = join(__dirname, '../../dist/server/src/logging/logging.js');
    const script = `
      const { createLogger, secretScrubber } = require(${JSON.stringify(logging)});
      const logger = createLogger('info', secretScrubber('sk-oh-'));
      for (let i = 0; i < 5; i++)
        logger.access.write({ id: 'exit-' + i, method: 'GET', url: '/x', remoteAddress: '::1', statusCode: 200, responseTimeMs: 1 });
      process.exit(1);`;
    let output = '';
    try {
      execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    } catch (error) {
      output = (error as { stdout: string }).stdout;
    }
    expect(output.split('\n').filter((line) => line.includes('"exit-'))).toHaveLength(5);
  });

  it('a log reader that stops reading neither stalls the event loop nor grows memory without bound', async () => {
    const logging = join(__dirname, '../../dist/server/src/logging/logging.js');
    // 400,000 lines (~100 MB) written while nobody reads the pipe; a timer must keep firing and
    // memory must stay near the 16 MB the destination may hold.
    const script = `
      const { createLogger, secretScrubber } = require(${JSON.stringify(logging)});
      const logger = createLogger('info', secretScrubber('sk-oh-'));
      let ticks = 0;
      setInterval(() => ticks++, 5).unref();
      global.gc();
      const before = process.memoryUsage();
      let i = 0;
      (function more() {
        for (let n = 0; n < 20000; n++, i++)
          logger.access.write({ id: 'stall-' + i, method: 'GET', url: '/api/keys/current', remoteAddress: '::1', statusCode: 200, responseTimeMs: 1 });
        if (i < 400000) return setImmediate(more);
        logger.access.flush();
        setTimeout(() => {
          global.gc();
          const after = process.memoryUsage();
          const grown = after.heapUsed + after.external + after.arrayBuffers - before.heapUsed - before.external - before.arrayBuffers;
          process.stderr.write(JSON.stringify({ ticks, grown, queued: process.stdout.writableLength }) + '\\n');
          process.exit(0);
        }, 200);
      })();`;
    const child = spawn(process.execPath, ['--expose-gc', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.stdout.pause(); // the stalled reader
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString()));
    // (Before, the exit hung: the last synchronous flush blocked on the full pipe.)
    const hung = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await new Promise((resolve) => child.on('exit', resolve));
    clearTimeout(hung);
    expect(errors).toContain('"ticks"');
    const report = JSON.parse(errors.trim().split('\n').pop()!) as { ticks: number; grown: number; queued: number };
    expect(report.ticks).toBeGreaterThan(10);
    expect(report.queued).toBeLessThanOrEqual(16 * 1024 * 1024 + 64 * 1024);
    expect(report.grown).toBeLessThan(40 * 1024 * 1024);
  });

  it("a quiet instance's access line shows up within seconds, not when the buffer fills", async () => {
    const app = new SpawnedApp({ DATABASE_URL: url, LOG_LEVEL: 'info' });
    await app.start();
    try {
      const marker = `quiet-marker-${Date.now()}`;
      await call({ url: app.url } as TestApp, `/api/${marker}`);
      const deadline = Date.now() + 5000;
      while (!app.output.includes(marker) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(app.output).toContain(marker);
    } finally {
      await app.kill('SIGTERM');
    }
  });
});
