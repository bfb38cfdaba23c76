import { createPublicKey, type KeyObject } from 'node:crypto';

/** GitHub's secret scanning public keys: `{"public_keys":[{"key_identifier","key"}]}` or the array alone. */
export function parseScanningKeys(raw: string | undefined): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  if (!raw) return keys;
  const parsed = JSON.parse(raw) as { public_keys?: unknown } | unknown[];
  const list = (Array.isArray(parsed) ? parsed : (parsed as { public_keys?: unknown }).public_keys) as Array<{
    key_identifier?: unknown;
    key?: unknown;
  }>;
  if (!Array.isArray(list)) throw new Error('expected {"public_keys": [...]}');
  for (const entry of list) {
    if (typeof entry?.key_identifier !== 'string' || typeof entry.key !== 'string')
      throw new Error('each key needs key_identifier and key');
    keys.set(entry.key_identifier, createPublicKey(entry.key));
  }
  return keys;
}
