import { clientKey, parseTrustedProxies } from './trusted-proxies';

describe('TRUST_PROXY', () => {
  it('takes nothing, a hop count, or a list of addresses, CIDRs and presets', () => {
    expect(parseTrustedProxies(undefined)).toBe(false);
    expect(parseTrustedProxies('false')).toBe(false);
    expect(parseTrustedProxies('1')).toBe(1);
    expect(parseTrustedProxies('10.0.0.0/8, 192.168.1.5,loopback,fd00::/8')).toEqual(['10.0.0.0/8', '192.168.1.5', 'loopback', 'fd00::/8']);
  });

  it('refuses "trust anyone" and malformed entries, saying why', () => {
    expect(parseTrustedProxies('true')).toEqual({ error: expect.stringContaining('from anyone') });
    expect(parseTrustedProxies('10.0.0.0/33')).toEqual({ error: expect.stringContaining('"10.0.0.0/33"') });
    expect(parseTrustedProxies('proxy.example.com')).toEqual({ error: expect.stringContaining('not an IP address') });
    expect(parseTrustedProxies('99')).toEqual({ error: expect.stringContaining('between 1 and 10') });
  });
});

describe('clientKey', () => {
  it('keeps IPv4 addresses and unwraps IPv4-mapped IPv6', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
  });

  it('counts an IPv6 address by its /64, however it is written', () => {
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002::1')).toBe('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:2::ffff')).toBe(clientKey('2001:db8:1:2:1234::'));
    expect(clientKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });
});
