import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, expectProblem } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * A provider that is not shaped like Keycloak's key URL: discovery at the usual place, keys at
 * `/jwks` (as oidc-provider publishes them), and keys that rotate on demand.
 */
class RotatingProvider {
  private server?: Server;
  base = '';
  jwksFetches = 0;
  jwksStatus = 200;
  private keys: Array<{ kid: string; privateKey: CryptoKey; jwk: JWK }> = [];

  get issuer(): string {
    return `${this.base}/realms/acme`;
  }

  async start(): Promise<void> {
    await this.rotate();
    this.server = createServer((req, res) => {
      if (req.url === '/realms/acme/.well-known/openid-configuration') {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ issuer: this.issuer, jwks_uri: `${this.base}/jwks` }));
      } else if (req.url === '/jwks') {
        this.jwksFetches++;
        res.writeHead(this.jwksStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }));
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** A new signing key replaces the old one (the old one is no longer published). */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = `k${this.keys.length + 1}-${Date.now()}`;
    this.keys = [{ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } }];
    return kid;
  }

  token(kid = this.keys[0].kid): Promise<string> {
    return new SignJWT({ typ: 'Bearer', azp: 'cli', aud: 'account', preferred_username: 'carol' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(this.issuer)
      .setSubject('carol-sub')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(this.keys[0].privateKey);
  }
}

describe('Signing keys from the discovery document, refetched on a cooldown (e2e)', () => {
  const provider = new RotatingProvider();
  let app: TestApp;

  beforeAll(async () => {
    await provider.start();
    app = await startTestApp({
      KEYCLOAK_URL: provider.base,
      KEYCLOAK_REALM: 'acme',
      JWKS_COOLDOWN_SECONDS: '2',
      AUTH_FAILURE_LIMIT: '1000000', // the made-up kids below are refusals on purpose
    });
  });
  afterAll(async () => {
    await app?.close();
    await provider.stop();
  });

  it("finds the keys at the provider's jwks_uri (/jwks), not at a guessed Keycloak path", async () => {
    const res = await call(app, '/api/keys/current', { token: await provider.token() });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user_id: 'carol-sub', auth_type: 'jwt' });
  });

  it('accepts a rotated-in key within the cooldown, however many made-up kids arrive meanwhile', async () => {
    const kid = await provider.rotate();
    const fetchesBefore = provider.jwksFetches;
    const started = Date.now();
    let accepted = false;
    while (!accepted && Date.now() - started < 6000) {
      // Unauthenticated noise: tokens naming keys that do not exist.
      await Promise.all(
        Array.from({ length: 5 }, (_v, i) =>
          provider.token(`made-up-${Date.now()}-${i}`).then((t) => call(app, '/api/keys', { token: t })),
        ),
      );
      accepted = (await call(app, '/api/keys/current', { token: await provider.token(kid) })).status === 200;
      await new Promise((r) => setTimeout(r, 10));
    }
    const waited = Date.now() - started;
    expect(accepted).toBe(true);
    expect(waited).toBeLessThan(2000 + 1500);
    // One fetch per cooldown at most, not one per made-up kid.
    expect(provider.jwksFetches - fetchesBefore).toBeLessThanOrEqual(Math.ceil(waited / 2000) + 1);
  });

  it('refuses a made-up kid as an unknown signing key', async () => {
    expectProblem(await call(app, '/api/keys', { token: await provider.token('no-such-key') }), 401, 'invalid_token');
  });

  it('logs a failed key-set fetch once, with the URL and the status', async () => {
    provider.jwksStatus = 503;
    await provider.rotate();
    await new Promise((r) => setTimeout(r, 2100));
    for (let i = 0; i < 3; i++) await call(app, '/api/keys', { token: await provider.token() });
    await new Promise((r) => setTimeout(r, 2100));
    await call(app, '/api/keys', { token: await provider.token() });
    const lines = app.logs.lines.filter((l) => l.includes(`${provider.base}/jwks answered HTTP 503`));
    expect(lines).toHaveLength(1);
    provider.jwksStatus = 200;
  });
});
