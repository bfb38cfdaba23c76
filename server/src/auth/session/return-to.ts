/** Where sign-in lands when `return_to` is missing or refused. */
export const DEFAULT_RETURN_TO = '/';
/** Longest accepted `return_to`, measured after percent-encoding. */
export const MAX_RETURN_TO_LENGTH = 2000;

const BASE = new URL('http://return-to.invalid/');

/**
 * The path to come back to after the console's sign-in: a same-origin path (with its query and
 * fragment) made of printable ASCII only, so it is always a valid `Location` header and never
 * leaves this site. `value` is the already-decoded query parameter. Characters outside ASCII
 * (and spaces) are percent-encoded as UTF-8; text that is already percent-encoded stays as it is,
 * so applying this twice changes nothing. Anything else falls back to `/`:
 *  - not a string, empty, or not starting with a single `/` (`//host` and `/\host` are
 *    protocol-relative to browsers; `https://…`, `javascript:` are not paths);
 *  - control characters (C0, DEL, C1): browsers silently drop tab and newlines from URLs,
 *    which would turn `/<TAB>/evil.example` into `//evil.example`;
 *  - lone surrogates (not encodable as UTF-8);
 *  - longer than MAX_RETURN_TO_LENGTH once encoded.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_RETURN_TO_LENGTH) return DEFAULT_RETURN_TO;
  if (!value.startsWith('/') || value[1] === '/' || value[1] === '\\') return DEFAULT_RETURN_TO;
  if (/\p{Cc}/u.test(value)) return DEFAULT_RETURN_TO;
  let encoded: string;
  try {
    // encodeURIComponent throws URIError on a lone surrogate.
    encoded = value.replace(/[^\x21-\x7e]+/g, (run) => encodeURIComponent(run));
  } catch {
    return DEFAULT_RETURN_TO;
  }
  if (encoded.length > MAX_RETURN_TO_LENGTH) return DEFAULT_RETURN_TO;
  // Belt and braces: whatever a URL parser makes of it must stay on this origin.
  let resolved: URL;
  try {
    resolved = new URL(encoded, BASE);
  } catch {
    return DEFAULT_RETURN_TO;
  }
  return resolved.origin === BASE.origin ? encoded : DEFAULT_RETURN_TO;
}
