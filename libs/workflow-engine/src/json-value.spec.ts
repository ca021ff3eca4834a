import { NotJsonError, canonicalJson, clonePlain, deepFreeze, toJsonValue } from './json-value';

describe('JSON helpers', () => {
  it('writes canonical JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('rejects what JSON cannot hold', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(new NotJsonError('$.n', 'NaN'));
    expect(() => canonicalJson({ when: new Date(0) })).toThrow(
      '$.when: a class instance is not a JSON value',
    );
    expect(() => canonicalJson(undefined)).toThrow(NotJsonError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => toJsonValue(cyclic)).toThrow('a cyclic structure');
  });

  it('drops undefined members and nulls undefined array items', () => {
    expect(toJsonValue({ a: undefined, b: [undefined, 1] })).toEqual({ b: [null, 1] });
  });

  it('clones plain data deeply without aliasing it, and other objects as structuredClone does', () => {
    const at = new Date('2026-12-01T00:00:00Z');
    const original = { a: [1, { b: 'x' }], at, gone: undefined, nested: { deeper: { n: null } } };
    const copied = clonePlain(original);

    expect(copied).toEqual(original);
    expect(Object.keys(copied)).toEqual(Object.keys(original));
    expect(copied.a).not.toBe(original.a);
    expect(copied.a[1]).not.toBe(original.a[1]);
    expect(copied.nested.deeper).not.toBe(original.nested.deeper);
    expect(copied.at).not.toBe(at);
    expect(copied.at.getTime()).toBe(at.getTime());
  });

  it('freezes deeply', () => {
    const value = deepFreeze({ a: { b: [1] } });
    expect(Object.isFrozen(value.a.b)).toBe(true);
  });
});
