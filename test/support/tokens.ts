import { importPKCS8, SignJWT } from 'jose';
import { call } from './http';
import { devIdpPrivateKeyPem, type TestApp } from './test-app';

/**
 * A token signed with the embedded provider's real key, with claims and header to tamper with.
 * Defaults: a Keycloak access token (`typ: Bearer`, `azp: cli`) for `sub`, expiring in 5 minutes;
 * a claim set to undefined is left out.
 */
export async function forgeToken(
  app: TestApp,
  sub: string,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const key = await importPKCS8(devIdpPrivateKeyPem(app), 'RS256');
  const jwks = (await call(app, '/realms/dev/protocol/openid-connect/certs')).body;
  const now = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    typ: 'Bearer',
    azp: 'cli',
    aud: 'account',
    iss: app.config.oidc.issuer,
    sub,
    iat: now,
    exp: now + 300,
    ...claims,
  };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: jwks.keys[0].kid, ...header }).sign(key);
}
