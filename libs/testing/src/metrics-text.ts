/** A metric's sum over all its series in a Prometheus text exposition (a service's `/metrics`); 0 when absent. */
export function metricSum(exposition: string, name: string): number {
  return [...exposition.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'gm'))].reduce(
    (sum, [, value]) => sum + Number(value),
    0,
  );
}
