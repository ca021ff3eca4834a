import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted and no whitespace: the form governance hashes a registry version in, so the
 * same content gives the same sha-256 here (checked against governance's own function in the spec).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (typeof value === 'object') {
    const members = Object.entries(value as Record<string, unknown>)
      .filter(([, member]) => member !== undefined)
      .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
      .map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`);
    return `{${members.join(',')}}`;
  }
  throw new TypeError(`a ${typeof value} is not a JSON value`);
}

/** sha-256 (hex) of the content's canonical JSON. */
export function contentHashOf(content: unknown): string {
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
