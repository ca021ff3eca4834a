/**
 * The path of the first value nested deeper than `maxDepth` (the top-level object or array is depth 1),
 * or undefined when `value` stays within it. Iterative, so a hostile depth cannot overflow the stack.
 */
export function pathBeyondDepth(value: unknown, maxDepth: number): string | undefined {
  const pending: Array<{ value: unknown; depth: number; path: readonly string[] }> = [
    { value, depth: 0, path: [] },
  ];
  for (let next = pending.pop(); next; next = pending.pop()) {
    if (typeof next.value !== 'object' || next.value === null) continue;
    const depth = next.depth + 1;
    if (depth > maxDepth) return next.path.join('.') || '(root)';
    for (const [key, child] of Object.entries(next.value)) {
      pending.push({ value: child, depth, path: [...next.path, key] });
    }
  }
  return undefined;
}
