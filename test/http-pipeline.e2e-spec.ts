import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

const packageVersion = (JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')) as { version: string }).version;

/** A console build of one page, so the suite does not depend on `npm run build`. */
function stubConsole(): string {
  const dir = mkdtempSync(join(tmpdir(), 'console-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><app-root></app-root>');
  return dir;
}

describe('HTTP pipeline: security headers, caching, access log (e2e)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ CLIENT_DIR: stubConsole() });
  });
  afterAll(() => app?.close());

  it('sends the security headers and no-store on API answers, errors included', async () => {
    const token = await passwordToken(app, 'alice');
    // The last: a URL Fastify's router refuses before any hook runs.
    const malformed = await call(app, '/api/%E0%A4%A');
    expect(malformed.status).toBe(400);
    for (const res of [await call(app, '/api/keys', { token }), await call(app, '/api/keys'), malformed]) {
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      // Development on http://: no HSTS (browsers ignore it there, and it would pin localhost).
      expect(res.headers.get('strict-transport-security')).toBeNull();
    }
  });

  it("gives the console's pages a strict content security policy", async () => {
    const page = await call(app, '/settings/api-keys', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
  });

  it('answers its version publicly, through the access log like every API route', async () => {
    const res = await call(app, '/api/version');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ service: 'api-key-service', version: packageVersion, api: '1.0' });
    expect(app.logs.lines.some((l) => l.includes('"url":"/api/version"'))).toBe(true);
  });

  it('logs one line per request with method, path without query, status and time, and no credentials', async () => {
    const token = await passwordToken(app, 'alice');
    await call(app, '/api/keys?secret-query=1', { token });
    const line = app.logs.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request completed' && l.req?.url === '/api/keys');
    expect(line).toMatchObject({ req: { method: 'GET', url: '/api/keys' }, res: { statusCode: 200 }, responseTime: expect.any(Number) });
    expect(app.logs.text).not.toContain('secret-query');
    expect(app.logs.text).not.toContain(token);
  });
});

describe('HTTP pipeline behind https (e2e)', () => {
  it('sends Strict-Transport-Security when the public URL is https', async () => {
    const app = await startTestApp({ PUBLIC_URL: 'https://keys.example.com' });
    try {
      const res = await call(app, '/api/health/live');
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
    } finally {
      await app.close();
    }
  });
});

describe('Swagger UI (e2e)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  it('serves its page with a strict policy of its own: scripts from this origin only', async () => {
    const page = await call(app, '/api/docs', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(csp).toContain("frame-ancestors 'none'");
    // Nothing inline for that policy to block.
    expect(page.text).not.toMatch(/<script>(?!\s*<\/script>)/);
  });

  it('sends the session\'s XSRF token with "Try it out" (request interceptor in its init script)', async () => {
    const init = await call(app, '/api/docs/swagger-ui-init.js');
    expect(init.status).toBe(200);
    expect(init.text).toContain('requestInterceptor');
    expect(init.text).toContain('XSRF-TOKEN');
    expect(init.text).toContain('X-XSRF-TOKEN');
  });
});
