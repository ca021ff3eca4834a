import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import { canonicalJson } from './canonical-json';

/** The sha-256 (hex) of a value's canonical JSON: equal content, equal hash, whatever the key order. */
export function contentHashOf(content: unknown): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(content))));
}
