import { bearerToken } from './credential';

/** RFC 6750 §2.1 as one rule, trimmed: what the fast path must agree with on every input. */
const reference = (header: string) => /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i.exec(header.trim())?.[1];

describe('bearerToken', () => {
  it('reads the token of the usual and the unusual forms, and refuses what is not a b64token', () => {
    expect(bearerToken('Bearer sk-oh-abc')).toBe('sk-oh-abc');
    expect(bearerToken('bearer   a.b.c ')).toBe('a.b.c');
    expect(bearerToken('  Bearer abc==')).toBe('abc==');
    for (const bad of ['Bearer ', 'Bearer', 'Bearer a b', 'Bearer a=b', 'Bearer a\nb', 'Basic abc', 'Bearer é', 'Bearer a,b'])
      expect(bearerToken(bad)).toBeUndefined();
  });

  it('agrees with the RFC rule on every header built from the characters that matter', () => {
    const parts = ['Bearer', 'bearer', ' ', '  ', 'sk-oh-x', 'a.b_c~d+e/f', '=', '==', 'x=y', '\n', '\t', ',', 'é', ''];
    const disagreements: string[] = [];
    let checked = 0;
    for (const a of parts)
      for (const b of parts)
        for (const c of parts)
          for (const d of parts) {
            const header = a + b + c + d;
            if (bearerToken(header) !== reference(header)) disagreements.push(header);
            checked++;
          }
    expect(disagreements).toEqual([]);
    expect(checked).toBe(parts.length ** 4);
  });
});
