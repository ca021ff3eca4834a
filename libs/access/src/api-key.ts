import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** An API key as a machine client holds it: `keel_<id>_<secret>`; only the secret's hash is ever stored. */
export interface IssuedApiKey {
  readonly id: string;
  /** The whole key, shown to its owner once. */
  readonly key: string;
  readonly secretHash: string;
}

const keyPattern = /^keel_([a-z0-9]{16})_([A-Za-z0-9_-]{43})$/;

/** A new key: 16 characters of id to look it up by, 256 random bits of secret. */
export function issueApiKey(): IssuedApiKey {
  const id = randomBytes(10).toString('hex').slice(0, 16);
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `keel_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a presented key, or undefined when it is not shaped like one of ours. */
export function parseApiKey(key: string): { readonly id: string; readonly secret: string } | undefined {
  const match = keyPattern.exec(key);
  return match === null ? undefined : { id: match[1] ?? '', secret: match[2] ?? '' };
}

/** Whether `secret` is the one whose hash was stored, compared in constant time. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

// The secret is 256 random bits, so a fast hash is enough: there is no low-entropy password to slow-guess.
function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
