import { createHash, randomBytes } from 'node:crypto';

export const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** How a per-user API key is stored: its SHA-256, never the key. */
export const hashApiKey = (key: string) => sha256(key).toString('hex');

/** A new per-user key: shown once, stored only as its hash. */
export function newApiKey(): { key: string; hash: string; prefix: string } {
  const key = `cgk_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, 10) };
}
