import { generateKey } from '../credentials/key-format';
import { secretScrubber } from './logging';

describe('secretScrubber', () => {
  const serviceToken = 'Zq9-service_token-aaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const masterKey = 'sk-master-1234';
  const scrub = secretScrubber('sk-oh-', [serviceToken, masterKey, 'short']);

  it.each([
    ['an API key', generateKey('sk-oh-')],
    ['an LLM key issued here', generateKey('sk-oh-llm-')],
    ['a LiteLLM key', 'sk-3f9aLk2_Qw8zR7tY1uI0oP'],
    ['a JWT', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz'],
    ['the service token', serviceToken],
    ['the LiteLLM master key', masterKey],
  ])('masks %s wherever it appears', (_label, secret) => {
    const line = `GET /api/keys/${secret}?x=1 failed: ${secret}`;
    const out = scrub(line);
    expect(out).not.toContain(secret);
    expect(out).toContain('GET /api/keys/');
  });

  it('masks long opaque runs such as sealed session cookies', () => {
    const sealed = 'Qm9vdHN0cmFwLXNlYWxlZC1jb29raWUtdmFsdWUtZm9yLXRlc3Rz_-x';
    expect(scrub(`GET /x/${sealed}`)).toBe('GET /x/[REDACTED]');
  });

  it('leaves ordinary text alone', () => {
    expect(scrub('GET /api/keys/42 took 3 ms (sk-oh-… hint)')).toBe('GET /api/keys/42 took 3 ms (sk-oh-… hint)');
  });
});
