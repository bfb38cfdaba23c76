import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * Where webhooks may go. A receiver is someone else's server: by default only public unicast
 * addresses over https, so a webhook cannot be aimed at this service's own network (metadata
 * endpoints, databases, admin ports). The check runs on the addresses DNS returns, inside the
 * connection's own lookup, so a name that resolves to a public address when the endpoint is
 * saved and to 127.0.0.1 when it is called (DNS rebinding) is refused too.
 */
export class TargetRefused extends Error {}

/** Only ordinary internet addresses: ipaddr.js names every special range (private, loopback, …). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') {
    const ipv6 = parsed as ipaddr.IPv6;
    if (ipv6.isIPv4MappedAddress()) parsed = ipv6.toIPv4Address();
    // IPv4-compatible (::a.b.c.d, deprecated): ipaddr.js calls it unicast, but it names an IPv4 host.
    else if (ipv6.parts.slice(0, 6).every((part) => part === 0)) return false;
  }
  return parsed.range() === 'unicast';
}

/** The URL's problems for a webhook target, or undefined when it is acceptable (before DNS). */
export function urlProblem(raw: string, allowPrivate: boolean): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    return allowPrivate ? 'must use http or https' : 'must use https';
  }
  if (url.username || url.password) return 'must not contain credentials; authenticate the request by its signature';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate) {
    if (isIP(host) && !isPublicAddress(host)) return 'must not point at a private, loopback or link-local address';
    if (/^(localhost|.*\.localhost|.*\.local|.*\.internal)$/i.test(host)) return 'must be a public host name';
  }
  return undefined;
}

/**
 * A `lookup` for http.request that resolves as usual and refuses any non-public address; the
 * socket then connects to exactly the address that was checked.
 */
export function publicOnlyLookup(allowPrivate: boolean): LookupFunction {
  return ((hostname: string, options: object, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      const allowed = allowPrivate ? addresses : addresses.filter((a) => isPublicAddress(a.address));
      if (allowed.length === 0) {
        return callback(new TargetRefused(`${hostname} resolves only to private, loopback or link-local addresses`));
      }
      if ((options as { all?: boolean }).all) return callback(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  }) as LookupFunction;
}
