import { signInUntilCallback } from './support/browser-session';
import { startTestApp, type TestApp } from './support/test-app';

/**
 * The provider signs the person in, but its token is one this service refuses (here: an
 * audience setting that does not list the console's client). Before, the callback stored the
 * token unchecked, every API call was 401, and the console went back to sign in in a loop.
 */
describe('a sign-in whose token the API would refuse', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ KEYCLOAK_AUDIENCE: 'cli' });
  });
  afterAll(() => app.close());

  it('ends on a readable page naming the reason, with no session and no redirect', async () => {
    const { jar, callback } = await signInUntilCallback(app, 'alice');
    expect(callback.status).toBe(401);
    expect(callback.headers.get('location')).toBeNull();
    expect(callback.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await callback.text();
    expect(html).toContain('invalid_audience');
    expect(html).toContain('Try again');
    expect(jar.cookies.has('keycloak_auth')).toBe(false);
    // Nothing that looks like a session was left to make the console try again.
    const current = await fetch(`${app.url}/api/keys/current`, { headers: { cookie: jar.header() } });
    expect(current.status).toBe(401);
  });
});
