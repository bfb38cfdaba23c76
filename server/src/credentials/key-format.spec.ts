import { checksumOf, generateKey, hashKey, hintOf, parseKey, RANDOM_LENGTH } from './key-format';

describe('api-key-secret', () => {
  const prefix = 'sk-oh-';

  it('generates prefixed base62 keys whose checksum verifies', () => {
    const key = generateKey(prefix);
    expect(key).toMatch(/^sk-oh-[0-9A-Za-z]{36}$/);
    expect(parseKey(key, prefix)).toEqual({ ok: true, key });
  });

  it('never repeats and spreads over the whole alphabet', () => {
    const keys = new Set(Array.from({ length: 2000 }, () => generateKey(prefix)));
    expect(keys.size).toBe(2000);
    const chars = new Set([...keys].flatMap((k) => [...k.slice(prefix.length, prefix.length + RANDOM_LENGTH)]));
    expect(chars.size).toBe(62);
  });

  it('rejects a single changed character by checksum', () => {
    const key = generateKey(prefix);
    const i = prefix.length + 3;
    const changed = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
    expect(parseKey(changed, prefix)).toEqual({ ok: false, reason: 'checksum' });
  });

  it.each([
    ['wrong prefix', 'sk-xx-' + 'a'.repeat(36)],
    ['too short', 'sk-oh-abc'],
    ['too long', generateKey('sk-oh-') + 'a'],
    ['bad characters', 'sk-oh-' + '!'.repeat(36)],
    ['empty', ''],
  ])('rejects %s as malformed', (_label, candidate) => {
    expect(parseKey(candidate, prefix)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('checksums are 6 characters, zero padded', () => {
    expect(checksumOf('')).toBe('000000');
    expect(checksumOf('sk-oh-x')).toHaveLength(6);
  });

  it('hashes with the server secret, so another secret gives another hash', () => {
    const key = generateKey(prefix);
    expect(hashKey(key, 's1'.repeat(16))).toHaveLength(32);
    expect(hashKey(key, 's1'.repeat(16)).equals(hashKey(key, 's2'.repeat(16)))).toBe(false);
  });

  it('shows only the prefix and the last four characters', () => {
    const key = generateKey(prefix);
    expect(hintOf(key, prefix)).toBe(`sk-oh-…${key.slice(-4)}`);
  });
});
