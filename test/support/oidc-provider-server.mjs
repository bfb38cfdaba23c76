// A second, independent OpenID provider for the tests: panva's certified `oidc-provider` with its
// default routes (issuer at the root, keys at /jwks, /auth, /token, /session/end) and RFC 9068
// `at+jwt` access tokens for one resource server — nothing shaped like Keycloak.
//
//   node test/support/oidc-provider-server.mjs '{"redirectUris": ["http://127.0.0.1:3000/api/auth/callback"]}'
//
// Prints one JSON line `{"issuer": "...", "audience": "..."}` once it listens. Users sign in on the
// provider's own development login form with any password; the account id is the login name.
// `POST /__test/rotate` puts a new signing key first (the old one stays published, as a provider
// does during a rotation) and answers with its kid.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const options = JSON.parse(process.argv[2] ?? '{}');
const port = options.port ?? 0;
const audience = options.audience ?? 'https://api.keys.test';
const redirectUris = options.redirectUris ?? [];
const accessTokenTtl = options.accessTokenTtl ?? 300;

function signingKey() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'RS256', use: 'sig' };
}

let keys = [signingKey()];
let provider;
let base = '';

function build() {
  const instance = new Provider(base, {
    jwks: { keys },
    clients: [
      // The console: a public client with PKCE (the service exchanges the code server side).
      {
        client_id: 'console',
        token_endpoint_auth_method: 'none',
        redirect_uris: redirectUris,
        post_logout_redirect_uris: redirectUris.map((uri) => new URL('/', uri).href),
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    pkce: { required: () => true },
    scopes: ['openid', 'profile', 'email', 'offline_access'],
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
    findAccount: (_ctx, id) => ({
      accountId: id,
      claims: () => ({ sub: id, preferred_username: id, email: `${id}@example.test` }),
    }),
    // Every client gets a refresh token, as Keycloak gives one without offline_access.
    issueRefreshToken: () => true,
    // Accounts named brief-… get access tokens that expire in 2 s, for expiry tests.
    ttl: {
      AccessToken: (_ctx, token) => (token.accountId?.startsWith('brief-') ? 2 : accessTokenTtl),
      IdToken: 300,
      Session: 3600,
      Interaction: 600,
      Grant: 3600,
      RefreshToken: 3600,
    },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openid profile email',
          audience,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    // A namespaced claim, as Auth0 puts custom claims: the name holds dots and slashes.
    extraTokenClaims: (_ctx, token) =>
      token.kind === 'AccessToken' ? { 'https://keys.test/username': `${token.accountId} (second provider)` } : undefined,
    // Consent is implied for these first-party clients.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid profile email offline_access');
      grant.addResourceScope(audience, 'openid profile email');
      await grant.save();
      return grant;
    },
  });
  instance.on('server_error', (_ctx, error) => process.stderr.write(`oidc-provider server_error: ${error.stack}\n`));
  return instance;
}

const server = createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/__test/rotate') {
    keys = [signingKey(), ...keys];
    provider = build();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kid: keys[0].kid }));
    return;
  }
  provider.callback()(req, res);
});
server.listen(port, '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  provider = build();
  process.stdout.write(`${JSON.stringify({ issuer: base, audience })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
