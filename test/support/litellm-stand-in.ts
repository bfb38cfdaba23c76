import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';

export interface RecordedCall {
  method: string;
  path: string;
  bearer?: string;
  body?: any;
}

/**
 * A stand-in for a LiteLLM proxy (which cannot run here), speaking the three endpoints the
 * service uses as LiteLLM documents them: `POST /key/generate` and `POST /key/delete` with the
 * master key as Bearer, and `GET /v1/models` with a generated key. It records every call and
 * can fail on demand: `down` drops connections, `error` answers 500, `slow` never answers.
 */
export class LiteLlmStandIn {
  readonly masterKey = `sk-master-${randomBytes(8).toString('hex')}`;
  readonly keys = new Map<string, { user_id: string; key_alias: string; metadata: Record<string, unknown> }>();
  readonly calls: RecordedCall[] = [];
  mode: 'ok' | 'down' | 'error' | 'slow' = 'ok';
  /** In mode `ok`: how many more calls are answered before the proxy goes down (a failure midway). */
  answersBeforeDown = Infinity;
  private server?: Server;
  url = '';

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  callsTo(path: string): RecordedCall[] {
    return this.calls.filter((c) => c.path === path);
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private authError(res: ServerResponse): void {
    this.send(res, 401, {
      error: { message: 'Authentication Error, Invalid proxy server token passed.', type: 'auth_error', param: 'None', code: '401' },
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.mode === 'ok' && this.answersBeforeDown <= 0) this.mode = 'down';
    if (this.mode === 'ok') this.answersBeforeDown--;
    if (this.mode === 'down') return void req.socket.destroy();
    if (this.mode === 'slow') return; // never answers: the client's timeout must fire
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const path = (req.url ?? '').split('?')[0];
    const body = raw ? JSON.parse(raw) : undefined;
    this.calls.push({ method: req.method ?? '', path, bearer, body });
    if (this.mode === 'error') return this.send(res, 500, { error: { message: 'Internal Server Error', type: 'internal_error' } });

    if (req.method === 'POST' && path === '/key/generate') {
      if (bearer !== this.masterKey) return this.authError(res);
      const key = `sk-${randomBytes(16).toString('base64url')}`;
      this.keys.set(key, { user_id: body.user_id, key_alias: body.key_alias, metadata: body.metadata ?? {} });
      return this.send(res, 200, {
        key,
        key_name: `sk-...${key.slice(-4)}`,
        key_alias: body.key_alias,
        user_id: body.user_id,
        metadata: body.metadata ?? {},
        token: createHash('sha256').update(key).digest('hex'),
        expires: null,
        models: [],
        spend: 0,
      });
    }
    if (req.method === 'POST' && path === '/key/delete') {
      if (bearer !== this.masterKey) return this.authError(res);
      const deleted = (body?.keys ?? []).filter((k: string) => this.keys.delete(k));
      if (deleted.length === 0)
        return this.send(res, 404, { error: { message: 'Failed to delete all keys. Keys not found.', type: 'not_found', code: '404' } });
      return this.send(res, 200, { deleted_keys: deleted });
    }
    if (req.method === 'GET' && path === '/v1/models') {
      if (!bearer || !this.keys.has(bearer)) return this.authError(res);
      return this.send(res, 200, { object: 'list', data: [{ id: 'gpt-4o', object: 'model', created: 1677610602, owned_by: 'openai' }] });
    }
    this.send(res, 404, { detail: 'Not Found' });
  }
}
