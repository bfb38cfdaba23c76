import { jsonDepth } from './json-depth';

describe('jsonDepth', () => {
  it('counts objects and arrays, not brackets inside strings', () => {
    expect(jsonDepth('{"name":"x"}')).toBe(1);
    expect(jsonDepth('{"scopes":["keys:read"]}')).toBe(2);
    expect(jsonDepth('{"name":"[[[{{{\\"]]]"}')).toBe(1);
    expect(jsonDepth('"plain"')).toBe(0);
  });

  it('sees very deep nesting without recursing', () => {
    expect(jsonDepth(`{"scopes":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)).toBe(100_001);
  });
});
