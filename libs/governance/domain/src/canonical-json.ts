/** A value that survives `JSON.stringify` → `JSON.parse` unchanged: what artifacts and audit rows are made of. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * JSON with object keys sorted and no whitespace, so equal data always yields the same text and the same hash.
 * `undefined` members are dropped as `JSON.stringify` drops them; anything else that is not JSON is refused.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${value} is not a JSON number`);
    return JSON.stringify(value);
  }
  // Loops and string concatenation rather than entries/filter/map: every audit row is hashed through this,
  // and the intermediate arrays were half the cost of appending to the chain.
  if (Array.isArray(value)) {
    let text = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) text += ',';
      text += canonicalJson(value[index] ?? null);
    }
    return `${text}]`;
  }
  if (typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object).sort();
    let text = '{';
    for (const key of keys) {
      const member = object[key];
      if (member === undefined) continue;
      if (text.length > 1) text += ',';
      text += `${JSON.stringify(key)}:${canonicalJson(member)}`;
    }
    return `${text}}`;
  }
  throw new TypeError(`a ${typeof value} is not a JSON value`);
}
