import { call, createKey, expectProblem, passwordToken } from './support/http';
import { startTestApp, type TestApp } from './support/test-app';

describe('Input hardening (e2e)', () => {
  let app: TestApp;
  let alice: string;
  beforeAll(async () => {
    app = await startTestApp();
    alice = await passwordToken(app, 'alice');
  });
  afterAll(() => app?.close());

  describe('key names', () => {
    it.each([
      ['a right-to-left override', 'invoice\u202Etxt.exe'],
      ['only a zero-width space', '\u200B'],
      ['a next-line control (U+0085)', 'a\u0085b'],
      ['a CSI control (U+009B)', 'a\u009Bb'],
      ['a line separator (U+2028)', 'a\u2028b'],
      ['a zero-width space inside', 'alice\u200B-full'],
      ['a no-break space', 'a\u00A0b'],
      ['a lone surrogate', 'a\uD800b'],
    ])('refuses %s with 422 on the name field', async (_label, name) => {
      const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name } });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'name', message: expect.stringContaining('visible characters') }]);
    });

    it('stores names NFC-normalised, so one name typed two ways is one name', async () => {
      const composed = 'caf\u00e9';
      const decomposed = 'cafe\u0301';
      const first = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: decomposed } });
      expect(first.status).toBe(201);
      expect(first.body.name).toBe(composed);
      expectProblem(await call(app, '/api/keys', { method: 'POST', token: alice, body: { name: composed } }), 409, 'duplicate_name');
    });

    it('keeps ordinary names in any script, with plain spaces', async () => {
      for (const name of ['CI 部署脚本', 'Ключ для бота', 'déploiement — prod', '🔑 laptop']) {
        const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: { name } });
        expect(res.status).toBe(201);
        expect(res.body.name).toBe(name);
      }
    });
  });

  describe('errors that say what to do', () => {
    it('answers a missing name with "name is required" alone', async () => {
      const res = await call(app, '/api/keys', { method: 'POST', token: alice, body: {} });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'name', message: 'name is required' }]);
    });

    it('answers a missing key at the verification API with "key is required" alone', async () => {
      const res = await call(app, '/api/keys/verify', { method: 'POST', token: app.config.verification.serviceToken, body: {} });
      expectProblem(res, 422, 'validation_failed');
      expect(res.body.errors).toEqual([{ field: 'key', message: 'key is required' }]);
    });
  });

  it('keeps working after all that', async () => {
    expect((await createKey(app, alice)).key).toMatch(/^sk-oh-/);
  });
});
