import type { TestApp } from './test-app';

export interface CallOptions {
  method?: string;
  token?: string;
  headers?: Record<string, string>;
  body?: unknown;
  rawBody?: string | Buffer;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call to the app over real loopback HTTP. */
export async function call<T = any>(app: TestApp, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Uint8Array | undefined =
    typeof options.rawBody === 'string' || options.rawBody === undefined ? options.rawBody : new Uint8Array(options.rawBody);
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${app.url}${path}`, {
    method: options.method ?? 'GET',
    headers,
    body: body as BodyInit | undefined,
    redirect: 'manual',
  });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** An access token from the embedded provider through the password grant, as scripts get one. */
export async function passwordToken(app: TestApp, username: string, password = username): Promise<string> {
  const response = await fetch(`${app.url}/realms/dev/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'password', client_id: 'cli', username, password }),
  });
  const json = (await response.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`no token for ${username}: ${JSON.stringify(json)}`);
  return json.access_token;
}

export async function createKey(
  app: TestApp,
  token: string,
  body: Record<string, unknown> = {},
): Promise<{ id: number; key: string; [k: string]: unknown }> {
  const res = await call(app, '/api/keys', {
    method: 'POST',
    token,
    body: { name: `key-${Math.random().toString(36).slice(2)}`, ...body },
  });
  if (res.status !== 201) throw new Error(`create failed: ${res.status} ${res.text}`);
  return res.body;
}

/** Checks an RFC 9457 problem response. */
export function expectProblem(res: CallResult, status: number, code?: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, title: expect.any(String), type: expect.any(String) });
  if (code) expect(res.body.code).toBe(code);
  expect(res.text).not.toMatch(/\bat .+\.(ts|js):\d+/); // no stack trace
}
