import type { FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'keycloak_auth';
export const MCP_HEADER = 'x-session-api-key';

/**
 * The one credential a request presents, read once by one rule and handed to the strategies.
 * `malformed` is an `Authorization` header that is present but not `Bearer <token>`: it is
 * refused rather than ignored, so it never falls back to a cookie behind it.
 */
export type Credential =
  | { kind: 'bearer-key'; raw: string }
  | { kind: 'bearer-jwt'; raw: string }
  | { kind: 'cookie'; raw: string }
  | { kind: 'mcp-header'; raw: string }
  | { kind: 'malformed'; raw: string };

/** RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token after exactly `Bearer ` (what clients send), matched in place. */
const TOKEN_AT_7 = /[A-Za-z0-9\-._~+/]+=*$/y;

/** The token of an `Authorization: Bearer` header; undefined when it is not that shape. */
export function bearerToken(header: string): string | undefined {
  // The usual form, checked without trimming or a capture (this runs on every request).
  if (header.startsWith('Bearer ')) {
    TOKEN_AT_7.lastIndex = 7;
    if (TOKEN_AT_7.test(header)) return header.slice(7);
  }
  return BEARER.exec(header.trim())?.[1];
}

/**
 * In the seed's order: `Authorization` (our key when it has our prefix, otherwise a JWT), the
 * console's session cookie, then the MCP header. Undefined when the request carries none.
 */
export function extractCredential(request: FastifyRequest, keyPrefix: string): Credential | undefined {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const token = bearerToken(authorization);
    if (token === undefined) return { kind: 'malformed', raw: '' };
    return { kind: token.startsWith(keyPrefix) ? 'bearer-key' : 'bearer-jwt', raw: token };
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (cookie) return { kind: 'cookie', raw: cookie };
  const header = request.headers[MCP_HEADER];
  if (header !== undefined) return { kind: 'mcp-header', raw: (Array.isArray(header) ? header.join(',') : header).trim() };
  return undefined;
}

/** What the Passport strategies receive: the parsed credential, never the raw request. */
export interface CredentialRequest {
  credential: Credential;
  /** The canonical `Bearer <token>` form, for passport-http-bearer. */
  headers: { authorization?: string };
  /** A JWT's header `typ`, noted by the key provider before the signature check (RFC 9068). */
  jwtHeaderType?: string;
}
