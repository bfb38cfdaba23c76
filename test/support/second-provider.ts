import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CookieJar } from './browser-session';

/**
 * A second, independent OpenID provider (panva's `oidc-provider`, see oidc-provider-server.mjs)
 * in its own process, with helpers that sign in on its login form as a browser would.
 */
export class SecondProvider {
  issuer = '';
  audience = '';
  private child?: ChildProcess;
  private output = '';

  /** `redirectUris`: the callbacks of the apps that will use it (their ports are chosen first). */
  async start(redirectUris: string[]): Promise<void> {
    this.child = spawn(process.execPath, [join(__dirname, 'oidc-provider-server.mjs'), JSON.stringify({ redirectUris })], {
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      this.child!.stdout!.once('data', (d: Buffer) => resolve(d.toString()));
      this.child!.once('exit', () => reject(new Error(`oidc-provider exited: ${this.output}`)));
    });
    ({ issuer: this.issuer, audience: this.audience } = JSON.parse(line) as { issuer: string; audience: string });
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  }

  /** Puts a new signing key first (the old one stays published); its kid. */
  async rotate(): Promise<string> {
    const response = await fetch(`${this.issuer}/__test/rotate`, { method: 'POST' });
    return ((await response.json()) as { kid: string }).kid;
  }

  /** Signs in on the provider's own form; follows redirects until one leaves the provider. */
  async login(jar: CookieJar, authorizationUrl: string, username: string): Promise<string> {
    const go = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: { ...(init.headers as Record<string, string>), cookie: jar.header() },
      });
      jar.absorb(response);
      return response;
    };
    let response = await go(authorizationUrl);
    let location = new URL(response.headers.get('location')!, this.issuer).href;
    const form = await (await go(location)).text();
    const action = /action="([^"]+)"/.exec(form)?.[1];
    if (action) {
      response = await go(new URL(action, this.issuer).href, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ prompt: 'login', login: username, password: 'any' }).toString(),
      });
      location = new URL(response.headers.get('location')!, this.issuer).href;
    }
    while (location.startsWith(this.issuer)) {
      response = await go(location);
      const next = response.headers.get('location');
      if (!next) throw new Error(`the provider stopped at ${location}: ${response.status} ${await response.text()}`);
      location = new URL(next, this.issuer).href;
    }
    return location;
  }

  /** An access token for `username`, as a script would get one (code + PKCE with the console client). */
  async accessToken(username: string, redirectUri: string): Promise<string> {
    const verifier = randomBytes(32).toString('base64url');
    const query = new URLSearchParams({
      client_id: 'console',
      response_type: 'code',
      scope: 'openid profile email',
      redirect_uri: redirectUri,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      state: randomBytes(8).toString('hex'),
    });
    const back = await this.login(new CookieJar(), `${this.issuer}/auth?${query}`, username);
    const code = new URL(back).searchParams.get('code');
    if (!code) throw new Error(`no code in ${back}`);
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: redirectUri,
        client_id: 'console',
        code_verifier: verifier,
      }),
    });
    const tokens = (await response.json()) as { access_token?: string };
    if (!tokens.access_token) throw new Error(`token endpoint: ${response.status} ${JSON.stringify(tokens)}`);
    return tokens.access_token;
  }
}
