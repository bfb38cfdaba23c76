import { isLoopbackHost } from './dev-idp.service';
import { SIGN_IN_FAILURE_LIMIT, SignInThrottle } from './sign-in-throttle';

describe('SignInThrottle', () => {
  it('lets 10 failures through per address, then refuses without charging', async () => {
    const throttle = new SignInThrottle();
    for (let i = 0; i < SIGN_IN_FAILURE_LIMIT; i++) expect(await throttle.begin('10.0.0.1', `u${i}`)).toBe(0);
    const wait = await throttle.begin('10.0.0.1', 'fresh');
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(300);
    // The refused attempt charged nothing to "fresh" elsewhere.
    for (let i = 0; i < SIGN_IN_FAILURE_LIMIT; i++) expect(await throttle.begin(`10.0.1.${i}`, 'fresh')).toBe(0);
  });

  it('refuses concurrent guesses past the limit', async () => {
    const throttle = new SignInThrottle();
    const waits = await Promise.all(Array.from({ length: 40 }, () => throttle.begin('10.0.0.2', 'alice')));
    expect(waits.filter((w) => w === 0)).toHaveLength(SIGN_IN_FAILURE_LIMIT);
  });

  it("does not count successful sign-ins, and a success clears the user's failures", async () => {
    const throttle = new SignInThrottle();
    for (let i = 0; i < 50; i++) {
      expect(await throttle.begin('10.0.0.3', 'alice')).toBe(0);
      await throttle.succeeded('10.0.0.3', 'alice');
    }
    for (let i = 0; i < SIGN_IN_FAILURE_LIMIT - 1; i++) await throttle.begin(`10.0.2.${i}`, 'bob');
    await throttle.begin('10.0.0.4', 'bob');
    await throttle.succeeded('10.0.0.4', 'bob');
    expect(await throttle.begin('10.0.0.5', 'bob')).toBe(0);
  });
});

describe('isLoopbackHost', () => {
  it.each(['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1'])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(['0.0.0.0', '::', '192.168.1.10', 'example.com', 'localhost.example.com', '127.0.0.1.nip.io'])('%s is not', (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
});
