import { signIn } from './support/browser-session';
import { startTestApp, TestApp } from './support/test-app';

/** Hardening items from issue 9 (outside security review), one describe per item. */

describe('(3) Sign-in return_to: a same-origin path of printable ASCII, never a 500 (e2e)', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it.each([
    ['/\u017f', '/%C5%BF'], // sent as return_to=/%C5%BF: Location may not carry U+017F (ERR_INVALID_CHAR)
    ['/settings/caf\u00e9 menu', '/settings/caf%C3%A9%20menu'],
    ['/\u{1F511}?q=\u00fc#x', '/%F0%9F%94%91?q=%C3%BC#x'],
    ['/settings/api-keys?tab=a%2Fb', '/settings/api-keys?tab=a%2Fb'], // already-encoded text stays as it is
    ['/\u0000', '/'], // sent as return_to=/%00
    ['/a\u007fb', '/'],
    ['/a\u0085b', '/'],
  ])('signs in and comes back for return_to=%j', async (returnTo, expected) => {
    const { jar, finalLocation } = await signIn(app, 'alice', 'alice', returnTo);
    expect(finalLocation).toBe(expected);
    expect(jar.cookies.has('keycloak_auth')).toBe(true);
  });

  it.each([
    '//evil.example/',
    '/\\evil.example/',
    '/\t/evil.example/',
    '/\n/evil.example/',
    'https://evil.example/',
    'http:evil.example',
    'javascript:alert(1)',
    '\\\\evil.example',
    'settings',
  ])('never leaves the site: return_to=%j comes back to /', async (returnTo) => {
    const { jar, finalLocation } = await signIn(app, 'alice', 'alice', returnTo);
    expect(finalLocation).toBe('/');
    expect(jar.cookies.has('keycloak_auth')).toBe(true);
  });

  it('comes back to / from an overlong return_to', async () => {
    expect((await signIn(app, 'alice', 'alice', `/${'\u00e9'.repeat(700)}`)).finalLocation).toBe('/');
  });

  it('keeps an undecodable escape as the ASCII it is', async () => {
    // signIn encodes its argument; "%C5" alone is not UTF-8, and the query parser leaves it as text.
    const { finalLocation } = await signIn(app, 'alice', 'alice', '/x%C5');
    expect(finalLocation).toBe('/x%C5');
  });
});
