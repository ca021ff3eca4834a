import { type JsonValue, canonicalJson } from './canonical-json';

/** One difference between two versions' content, at a path such as `steps.confirm.next` or `tools[2]`. */
export type ContentChange =
  | { readonly path: string; readonly change: 'added'; readonly after: JsonValue }
  | { readonly path: string; readonly change: 'removed'; readonly before: JsonValue }
  | {
      readonly path: string;
      readonly change: 'changed';
      readonly before: JsonValue;
      readonly after: JsonValue;
    };

/**
 * The structured difference from `before` to `after`: objects are compared member by member and arrays item by
 * item (an item appended or dropped at the end is added/removed; a value whose type changes is changed whole).
 * Paths are in key order, so the same two versions always give the same list.
 */
export function diffContent(before: JsonValue, after: JsonValue): ContentChange[] {
  const changes: ContentChange[] = [];
  walk(before, after, '', changes);
  return changes;
}

function walk(before: JsonValue, after: JsonValue, path: string, changes: ContentChange[]): void {
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!(key in after)) changes.push({ path: at, change: 'removed', before: before[key] });
      else if (!(key in before)) changes.push({ path: at, change: 'added', after: after[key] });
      else walk(before[key], after[key], at, changes);
    }
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let index = 0; index < Math.max(before.length, after.length); index += 1) {
      const at = `${path}[${index}]`;
      if (index >= after.length) changes.push({ path: at, change: 'removed', before: before[index] });
      else if (index >= before.length) changes.push({ path: at, change: 'added', after: after[index] });
      else walk(before[index], after[index], at, changes);
    }
    return;
  }
  if (canonicalJson(before) !== canonicalJson(after))
    changes.push({ path, change: 'changed', before, after });
}

function isObject(value: JsonValue): value is { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
