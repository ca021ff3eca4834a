import { createHmac } from 'node:crypto';
import { type HmacSha256 } from '@keel/governance-domain';

/**
 * Node's HMAC-SHA256 (OpenSSL) for the audit chain: the same bytes as the domain's portable one, about four
 * times faster, and hashing is most of an append's CPU.
 */
export const nativeHmacSha256: HmacSha256 = (key, message) =>
  createHmac('sha256', key).update(message, 'utf8').digest('hex');
