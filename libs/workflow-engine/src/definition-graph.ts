/** Directed graph over step ids of one scope. */
export type StepGraph = ReadonlyMap<string, readonly string[]>;

/** Every node reachable from `from` (including it). */
export function reachableFrom(graph: StepGraph, from: string): Set<string> {
  const seen = new Set<string>([from]);
  const pending = [from];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    for (const next of graph.get(node) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        pending.push(next);
      }
    }
  }
  return seen;
}

/** Every node from which one of `targets` is reachable (including the targets). */
export function canReach(graph: StepGraph, targets: Iterable<string>): Set<string> {
  const reversed = new Map<string, string[]>();
  for (const [node, nexts] of graph) {
    for (const next of nexts) reversed.set(next, [...(reversed.get(next) ?? []), node]);
  }
  const result = new Set<string>();
  for (const target of targets) for (const node of reachableFrom(reversed, target)) result.add(node);
  return result;
}

/**
 * Strongly connected components that contain a cycle (more than one node, or a node with an edge to itself),
 * in a stable order. Tarjan's algorithm; recursion depth is bounded by the number of steps in a scope.
 */
export function cycles(graph: StepGraph): string[][] {
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  const connect = (node: string): void => {
    order.set(node, order.size);
    low.set(node, order.get(node) ?? 0);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!order.has(next)) {
        connect(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, order.get(next) ?? 0));
      }
    }
    if (low.get(node) !== order.get(node)) return;
    const component: string[] = [];
    let member: string | undefined;
    do {
      member = stack.pop();
      if (member === undefined) break;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    const selfLoop = component.length === 1 && (graph.get(node) ?? []).includes(node);
    if (component.length > 1 || selfLoop) components.push(component.sort());
  };

  for (const node of graph.keys()) if (!order.has(node)) connect(node);
  return components;
}
