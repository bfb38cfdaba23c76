/**
 * A JWT's header or payload segment as an object, read WITHOUT verification: for routing and
 * planning only (which key, when it expires, which session), never to trust a claim.
 */
export function decodeJwtSegment(segment: string | undefined): Record<string, unknown> | undefined {
  if (!segment || !/^[A-Za-z0-9_-]+$/.test(segment)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A JWT's claims, unverified (see decodeJwtSegment). */
export function unverifiedClaims(jwt: string): Record<string, unknown> {
  return decodeJwtSegment(jwt.split('.')[1]) ?? {};
}
