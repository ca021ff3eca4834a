import type { Registry } from 'prom-client';

// Series named by conventions other than ours: prom-client's runtime metrics, and kafka_exporter's lag
// gauge (kept under its own name so community lag dashboards and alerts work unchanged).
const foreignConventions = [/^process_/, /^nodejs_/, /^kafka_consumergroup_lag$/];
// Durations and sizes are exposed in base units only (Prometheus convention), never ms or kB.
const baseUnitSuffix = /_(seconds|bytes|ratio)$/;
const nonBaseUnit = /_(ms|milliseconds|microseconds|minutes|hours|kb|kilobytes|mb|megabytes)(_|$)/;
// A label named like an identifier is unbounded (one series per case, event, trace…): cardinality blows up.
const unboundedLabel = /(^|_)(id|ids|uuid|key|hash|trace|traceid|caseid|eventid|url|path)$/i;
const snakeCase = /^[a-z][a-z0-9_]*$/;

interface RegisteredMetric {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram' | 'summary';
  readonly labelNames?: readonly string[];
}

/**
 * Every way the metrics of `registry` break Keel's naming rules: `keel_<what>_<unit>`, snake case,
 * counters and only counters ending in `_total`, histograms and summaries in base units, bounded labels.
 * Empty when all is well; tests assert it over each service's registry.
 */
export function metricNamingProblems(registry: Registry): string[] {
  // prom-client's typings declare `type` as a numeric enum and omit `labelNames`; the registered metric
  // objects carry the type's name ('counter'…) and their label names.
  const metrics = registry.getMetricsAsArray() as unknown as readonly RegisteredMetric[];
  return metrics.flatMap((metric) => problemsOf(metric));
}

function problemsOf({ name, type, labelNames = [] }: RegisteredMetric): string[] {
  if (foreignConventions.some((pattern) => pattern.test(name))) return [];
  const problems: string[] = [];
  if (!snakeCase.test(name)) problems.push(`${name}: not snake_case`);
  if (!name.startsWith('keel_')) problems.push(`${name}: missing the keel_ prefix`);
  const isCounter = type === 'counter';
  if (isCounter !== name.endsWith('_total')) {
    problems.push(
      isCounter ? `${name}: a counter must end in _total` : `${name}: only counters end in _total`,
    );
  }
  if ((type === 'histogram' || type === 'summary') && !baseUnitSuffix.test(name)) {
    problems.push(`${name}: a ${type} must end in a base unit (_seconds, _bytes, _ratio)`);
  }
  if (nonBaseUnit.test(name)) problems.push(`${name}: use base units (seconds, bytes)`);
  for (const label of labelNames) {
    if (!snakeCase.test(label)) problems.push(`${name}{${label}}: label not snake_case`);
    if (unboundedLabel.test(label)) problems.push(`${name}{${label}}: label looks unbounded (an identifier)`);
  }
  return problems;
}
