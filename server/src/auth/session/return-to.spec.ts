import { safeReturnTo } from './return-to';

describe('safeReturnTo', () => {
  it.each([
    ['/', '/'],
    ['/settings/api-keys', '/settings/api-keys'],
    ['/settings/api-keys?tab=1&x=%2F#top', '/settings/api-keys?tab=1&x=%2F#top'],
    ['/\u017f', '/%C5%BF'],
    ['/caf\u00e9 au lait', '/caf%C3%A9%20au%20lait'],
    ['/\u{1F511}', '/%F0%9F%94%91'],
    ['/\uff0f\uff0fevil.example', '/%EF%BC%8F%EF%BC%8Fevil.example'], // fullwidth solidus: encoded, no longer a slash to anyone
    ['/x%C5', '/x%C5'],
    ['/a/../b', '/a/../b'],
    ['/a\\b', '/a\\b'],
  ])('keeps %j as the same-origin path %j', (input, expected) => {
    expect(safeReturnTo(input)).toBe(expected);
  });

  it.each([
    undefined,
    null,
    42,
    ['/a', '/b'],
    '',
    'settings',
    '//evil.example',
    '/\\evil.example',
    '\\/evil.example',
    'https://evil.example/',
    'http:evil.example',
    'javascript:alert(1)',
    '/\u0000',
    '/\t/evil.example',
    '/\r\nSet-Cookie: x=y',
    '/a\u007f',
    '/a\u0085',
    '/a\u009b',
    '/\ud800',
    '/\udc00x',
    `/${'a'.repeat(2001)}`,
    `/${'\u00e9'.repeat(700)}`, // 700 characters, but 4,200 once encoded
  ])('falls back to / for %j', (input) => {
    expect(safeReturnTo(input)).toBe('/');
  });

  it('returns only printable ASCII and is stable when applied twice', () => {
    for (const input of ['/\u017f', '/a b', '/\u{1F511}?q=\u00fc', '/%00', '/ok']) {
      const once = safeReturnTo(input);
      expect(once).toMatch(/^\/[\x21-\x7e]*$/);
      expect(safeReturnTo(once)).toBe(once);
    }
  });
});
