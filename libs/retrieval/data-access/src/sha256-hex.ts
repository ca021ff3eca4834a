import { createHash } from 'node:crypto';

/** sha-256 hex of a text's UTF-8 bytes: the chunk hash every adapter and the service use. */
export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}
