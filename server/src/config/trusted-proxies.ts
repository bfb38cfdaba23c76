import { isIP } from 'node:net';

/** proxy-addr's named ranges, as Fastify accepts them. */
const PRESETS = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * Which peers may set the client address through `X-Forwarded-For`: none (`false`), a hop
 * count, or a list of proxy addresses and CIDR ranges (and proxy-addr's presets). Never
 * "anyone": then every client could choose its own address, and with it dodge the
 * failed-authentication limit and write any address into the log.
 */
export type TrustedProxies = false | number | string[];

/** Parses TRUST_PROXY; the error message when it is not usable. */
export function parseTrustedProxies(raw: string | undefined): TrustedProxies | { error: string } {
  const value = (raw ?? '').trim();
  if (value === '' || /^(false|0|no|off)$/i.test(value)) return false;
  if (/^(true|yes|on)$/i.test(value)) {
    return {
      error:
        'TRUST_PROXY=true would trust X-Forwarded-For from anyone; list your proxies (addresses or CIDRs, e.g. 10.0.0.0/8,loopback) or give a hop count',
    };
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return hops >= 1 && hops <= 10 ? hops : { error: 'TRUST_PROXY as a hop count must be between 1 and 10' };
  }
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    if (PRESETS.has(entry)) continue;
    const [address, bits, ...rest] = entry.split('/');
    const family = isIP(address);
    const maxBits = family === 4 ? 32 : 128;
    if (!family || rest.length > 0 || (bits !== undefined && !(/^\d+$/.test(bits) && Number(bits) <= maxBits))) {
      return { error: `TRUST_PROXY entry "${entry}" is not an IP address, a CIDR range or one of loopback, linklocal, uniquelocal` };
    }
  }
  return entries;
}

/**
 * The key failures are counted under: an IPv4 address as it is, an IPv6 address by its /64
 * (one subscriber usually holds a whole /64, so counting single addresses would let it rotate
 * through 2^64 of them). IPv4-mapped IPv6 addresses count as their IPv4 address.
 */
export function clientKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1];
  if (isIP(address) !== 6) return address;
  return `${expandIpv6(address).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(address: string): string[] {
  const [head, tail = ''] = address.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.map((g) => (g.includes('.') ? g : g.toLowerCase().replace(/^0+(?=.)/, '')));
}
