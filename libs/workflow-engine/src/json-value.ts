/** Any value that survives `JSON.stringify` → `JSON.parse` unchanged. Instance state is built only from these. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Thrown when a value cannot be represented as JSON (a function, `NaN`, a cycle, a class instance…). */
export class NotJsonError extends Error {
  constructor(
    readonly where: string,
    what: string,
  ) {
    super(`${where}: ${what} is not a JSON value`);
    this.name = 'NotJsonError';
  }
}

/**
 * Copies `value` into plain JSON: drops `undefined` object members, turns `undefined` array items into `null`
 * and strips the extra properties JSONata hangs on result sequences. Returns `undefined` only for `undefined`.
 */
export function toJsonValue(value: unknown, where = '$'): JsonValue | undefined {
  return copy(value, where, new Set());
}

function copy(value: unknown, where: string, seen: Set<object>): JsonValue | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NotJsonError(where, String(value));
    return value;
  }
  if (typeof value !== 'object') throw new NotJsonError(where, `a ${typeof value}`);
  if (seen.has(value)) throw new NotJsonError(where, 'a cyclic structure');
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map((item: unknown, index) => copy(item, `${where}[${index}]`, seen) ?? null);
    }
    if (!isPlainShape(value)) throw new NotJsonError(where, 'a class instance');
    const result: JsonObject = {};
    for (const [key, member] of Object.entries(value)) {
      const copied = copy(member, `${where}.${key}`, seen);
      if (copied !== undefined) result[key] = copied;
    }
    return result;
  } finally {
    seen.delete(value);
  }
}

/**
 * A plain object (its prototype `Object.prototype` or none), compared by shape, not identity: objects from
 * another realm (vm contexts, structuredClone in test runners) have a different Object.prototype but are still
 * plain.
 */
function isPlainShape(value: object): boolean {
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype === null || Object.getPrototypeOf(prototype) === null;
}

/**
 * A deep copy, as `structuredClone` makes it, of data that is mostly plain (instance state, inputs): arrays
 * and plain objects are copied member by member, anything else (a Date…) by `structuredClone`. About four
 * times faster than `structuredClone` on a five-step instance's state (5 against 20 µs), which the engine
 * copies on every transition.
 */
export function clonePlain<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => clonePlain(item)) as T;
  if (!isPlainShape(value)) return structuredClone(value);
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(value)) result[key] = clonePlain((value as Record<string, unknown>)[key]);
  return result as T;
}

/**
 * JSON with object keys sorted and no insignificant whitespace, so equal data always yields the same text.
 * Hash it (e.g. sha-256 in the I/O shell) to fingerprint a definition; the core stays free of crypto.
 */
export function canonicalJson(value: unknown): string {
  const json = toJsonValue(value);
  if (json === undefined) throw new NotJsonError('$', 'undefined');
  return write(json);
}

function write(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(write).join(',')}]`;
  const members = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${write(value[key])}`);
  return `{${members.join(',')}}`;
}

/** Freezes an object graph in place so a validated definition cannot drift from what was validated. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
