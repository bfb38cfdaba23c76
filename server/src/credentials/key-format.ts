import { createHmac, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 30 base62 characters carry 178 bits from the CSPRNG (ASVS asks for at least 128). */
export const RANDOM_LENGTH = 30;
/** CRC32 (< 62^6) written as 6 base62 characters, as GitHub tokens do. */
export const CHECKSUM_LENGTH = 6;
/** The body after the prefix, matched in place (sticky, from `lastIndex`): no slice per check. */
const BODY = new RegExp(`[0-9A-Za-z]{${RANDOM_LENGTH + CHECKSUM_LENGTH}}$`, 'y');

export type ParsedKey = { ok: true; key: string } | { ok: false; reason: 'malformed' | 'checksum' };

function base62(n: number, width: number): string {
  let out = '';
  do {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}

/** Uniform base62 from the CSPRNG: bytes >= 248 are dropped, so `% 62` has no bias. */
function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte < 248) out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

export function checksumOf(prefixAndRandom: string): string {
  return base62(crc32(prefixAndRandom), CHECKSUM_LENGTH);
}

export function generateKey(prefix: string): string {
  const head = prefix + randomBase62(RANDOM_LENGTH);
  return head + checksumOf(head);
}

function bodyAt(candidate: string, start: number): boolean {
  BODY.lastIndex = start;
  return BODY.test(candidate);
}

/** The prefix and 36 base62 characters (random part and checksum), checksum not checked. */
export function hasKeyShape(candidate: string, prefix: string): boolean {
  return (
    candidate.length === prefix.length + RANDOM_LENGTH + CHECKSUM_LENGTH && candidate.startsWith(prefix) && bodyAt(candidate, prefix.length)
  );
}

/**
 * Offline check of shape and checksum: a mistyped or invented key is rejected here, before any
 * hashing, cache or database work.
 */
export function parseKey(candidate: string, prefix: string): ParsedKey {
  if (!hasKeyShape(candidate, prefix)) return { ok: false, reason: 'malformed' };
  const body = candidate.slice(prefix.length);
  const head = candidate.slice(0, candidate.length - CHECKSUM_LENGTH);
  if (checksumOf(head) !== body.slice(RANDOM_LENGTH)) return { ok: false, reason: 'checksum' };
  return { ok: true, key: candidate };
}

/**
 * Keyed hash (HMAC-SHA-256 with a server secret), as GitLab does: a stolen table alone cannot
 * be used to test guesses offline. The key has 178 random bits, so no slow KDF is needed.
 */
export function hashKey(key: string, secret: string): Buffer {
  return createHmac('sha256', secret).update(key).digest();
}

/** What the console shows instead of the key: `sk-oh-…AbCd`. */
export function hintOf(key: string, prefix: string): string {
  return `${prefix}…${key.slice(-4)}`;
}
